import { Hono } from 'hono'
import { html } from 'hono/html'
import { type Env, personalize, veneerEndpoints, veneerQueue, veneerScheduled } from 'veneer'

const app = new Hono<{ Bindings: Env }>()

// Veneer's endpoints: health, events, client.js, preferences, QA, admin API and dashboard.
app.route('/__veneer', veneerEndpoints())

// Personalizes the HTML that the routes below return, as it streams (needs the RULES binding).
app.use('*', personalize())

// Your own pages: Veneer rewrites what these return. Serve them here, or fetch them from another
// host (`fetch(new URL(c.req.path, 'https://origin.example.com'))`). Never `fetch(c.req.raw)`: on
// this Worker's own route that request comes straight back to this Worker, which fetches it again…
const page = (title: string, body: ReturnType<typeof html>) => html`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${title}</title></head>
  <body>
    <nav><a href="/">Home</a> · <a href="/pricing">Pricing</a> · <a href="/__veneer/preferences">Privacy</a></nav>
    ${body}
    <script src="/__veneer/client.js" defer></script>
  </body>
</html>`

app.get('/', (c) => c.html(page('Trail Co.', html`<h1 id="headline">Gear for every trail.</h1><p>Welcome.</p>`)))
app.get('/pricing', (c) => c.html(page('Pricing', html`<h1>Pricing</h1><p id="note">Prices shown before tax.</p>`)))
app.get('/thanks', (c) => c.html(page('Thanks', html`<h1>Thanks for signing up</h1>`)))
app.get('/api/status', (c) => c.json({ ok: true })) // not HTML, and excluded: passes untouched

export default {
  fetch: app.fetch,
  queue: veneerQueue, // writes measurement events from the EVENTS queue to DB
  scheduled: veneerScheduled, // Veneer's jobs: retention of raw rows, …
} satisfies ExportedHandler<Env>
