export default {
  async fetch(req: Request, env: { RULES: KVNamespace }) {
    await env.RULES.put('x', 'y')
    const r = new HTMLRewriter().on('h1', { element(e) { e.setInnerContent('hi') } }).transform(new Response('<h1>a</h1>', { headers: { 'content-type': 'text/html' } }))
    return new Response((await r.text()) + (await env.RULES.get('x')) + new URL(req.url).pathname)
  },
} satisfies ExportedHandler<{ RULES: KVNamespace }>
