// Benchmark fixtures: realistic HTML pages with the regions a ruleset personalizes, and
// generated rulesets of any size whose placements match those pages.

/** Number of personalized regions on every bench page (one per placement). */
export const SLOTS = 10

const SLOT_SELECTORS = [
  '#hero h1',
  '#promo',
  '#greeting',
  '.cta-primary',
  '#shipping-note',
  'nav a.deal',
  '#recommend h2',
  '#newsletter p',
  'footer .legal',
  '[data-slot="banner"]',
]

function slots() {
  return `
<div id="promo" class="bar">Free returns within 30 days</div>
<header class="site-header"><a class="logo" href="/">Shop</a>
<nav><a href="/new">New</a><a href="/men">Men</a><a href="/women">Women</a><a class="deal" href="/sale">Sale</a></nav></header>
<section id="hero" class="hero"><h1>Welcome to the shop</h1><p id="greeting">Hello there.</p>
<a class="cta-primary button" href="/new">Shop new arrivals</a></section>
<p id="shipping-note">Shipping in 2 to 4 days.</p>
<div data-slot="banner" class="banner">Seasonal banner</div>
<section id="recommend"><h2>Recommended for you</h2></section>`
}

function card(i) {
  return `<article class="card product" data-id="${i}" itemscope itemtype="https://schema.org/Product">
  <a href="/products/${i}"><img src="/img/p${i}.webp" alt="Product ${i}" width="320" height="320" loading="lazy"></a>
  <h2 itemprop="name">Everyday item number ${i}</h2>
  <p class="desc" itemprop="description">A sturdy everyday thing, made to last, in recycled materials. Ships in 2 days &amp; returns are free.</p>
  <span class="price" itemprop="price" content="${(i % 90) + 9}.99">$${(i % 90) + 9}.99</span>
  <button class="add" data-sku="SKU-${i}">Add to cart</button>
</article>
`
}

/** A product listing page of about `bytes` bytes (UTF-8), with the ten personalized regions at the top. */
export function benchPage(bytes, { select = false, ambiguous = false } = {}) {
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop: new arrivals</title><link rel="stylesheet" href="/assets/site.css"><link rel="preload" href="/assets/font.woff2" as="font" crossorigin>
<style>body{font-family:system-ui,sans-serif;margin:0}.card{display:inline-block;width:320px;margin:8px}.bar{background:#222;color:#fff}</style>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"WebSite","name":"Shop"}</script>
</head><body>`
  const tail = `
<section id="newsletter"><p>Get 10% off your first order.</p></section>
<footer><p class="legal">© Shop Inc.</p></footer>
<script src="/assets/app.js" defer></script></body></html>
`
  // `select`: a sort dropdown, as most listing pages have: such a page always takes the guarded
  // byte path (src/rewrite/stream.ts).
  const sort = select
    ? '<form class="sort"><select name="sort"><option>Price</option><option>Newest</option></select></form>\n'
    : ''
  const parts = [head, slots(), sort, '<main class="grid">\n']
  let size = parts.join('').length + tail.length + 8
  for (let i = 0; size < bytes; i++) {
    const c = card(i)
    parts.push(c)
    size += c.length
  }
  // `ambiguous`: a `<select>` lol-html cannot parse (a `<noscript>` in it) after the product grid,
  // below every personalized region: the guard stops the rewrite there on every view, so this
  // page always takes the guarded byte path. The floor would cut it short.
  if (ambiguous) parts.push('<select name="size"><option>S</option><noscript>Pick a size</noscript></select>\n')
  parts.push('</main>', tail)
  return parts.join('')
}

/**
 * A ruleset of `segments` segments and `placements` placements (at most SLOTS distinct
 * regions; more placements reuse them on other paths) for a visitor as miniflare presents one:
 * US (Austin), desktop Chrome, any hour. Every placement tests four segments that do not match
 * before one that does, so decisions walk real rules; three in five segments match.
 * `allOnPage`: every placement is on the bench pages (the worst case for the scale test).
 */
export function benchRuleset({ segments: nSeg = 50, placements: nPl = 10, budgetMs = 50, allOnPage = false } = {}) {
  const segments = []
  for (let i = 0; i < nSeg; i++) {
    const id = `seg-${i}`
    let when
    switch (i % 5) {
      case 0:
        when = { 'geo.country': { $in: ['US', 'CA', 'MX', `X${i % 10}`] } }
        break // match
      case 1:
        when = { 'device.type': 'desktop', 'time.hour': { $gte: 0, $lte: 23 } }
        break // match
      case 2:
        when = { 'request.utm.source': `newsletter-${i}`, 'geo.isEU': true }
        break // no match
      case 3:
        when = { 'request.path': { $regex: '^/(page|slow)' }, 'request.host': { $exists: true } }
        break // match
      default:
        when = {
          $or: [{ 'geo.continent': 'AS' }, { 'device.browser': { $in: ['edge', 'opera'] } }, { 'request.query.ref': `r${i}` }],
        } // no match
    }
    segments.push({ id, description: `generated segment ${i}`, when })
  }
  const matching = segments.filter((_, i) => i % 5 === 0 || i % 5 === 1 || i % 5 === 3).map((s) => s.id)
  const missing = segments.filter((_, i) => i % 5 === 2 || i % 5 === 4).map((s) => s.id)
  const placements = []
  for (let p = 0; p < nPl; p++) {
    const slot = p % SLOTS
    const selector = SLOT_SELECTORS[slot]
    const variants = [
      {
        id: 'local',
        ops: [
          { op: 'setText', value: `Hello {{geo.city}}: picks for ${p}` },
          { op: 'addClass', value: 'personalized' },
        ],
      },
      {
        id: 'rich',
        ops: [
          { op: 'setHtml', value: `<strong>Free shipping</strong> to {{geo.country}} today (${p})` },
          { op: 'setAttr', name: 'data-variant', value: 'rich-{{device.type}}' },
        ],
      },
      { id: 'extra', ops: [{ op: 'append', value: ' <em>new</em>' }] },
    ]
    const rules = []
    for (let r = 0; r < 4 && missing.length > 0; r++)
      rules.push({ segment: missing[(p * 4 + r) % missing.length], variant: variants[r % 3].id })
    rules.push({ segment: matching[p % matching.length], variant: variants[p % 2].id })
    // Placements past the ten regions sit on other paths, as on a real site with many templates.
    placements.push({
      id: `pl-${p}`,
      paths: p < SLOTS || allOnPage ? ['/page*', '/slow*'] : [`/section-${p}/*`],
      selector,
      variants,
      rules,
    })
  }
  return {
    version: `bench-${nSeg}x${nPl}`,
    settings: { budgetMs, refreshSeconds: 3600, include: ['/*'], exclude: ['/assets/*'] },
    segments,
    placements,
    goals: [{ id: 'purchase', event: 'purchase' }],
  }
}

/** Attribute values miniflare gives the bench visitor (its placeholder `cf`, a desktop Chrome). */
export const BENCH_VISITOR = { 'geo.city': 'Austin', 'geo.country': 'US', 'device.type': 'desktop' }

/**
 * The floor's operations for a bench ruleset: per selector, what Veneer applies for the bench
 * visitor (the variant its matching rule picks, placeholders filled), in placement order. The
 * bench checks that the floor's page and Veneer's are the same bytes.
 */
export function floorOps(ruleset) {
  const fill = (v) => v.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, k) => BENCH_VISITOR[k] ?? '')
  const bySelector = new Map()
  for (const [p, pl] of ruleset.placements.entries()) {
    if (!pl.paths.includes('/page*')) continue
    const variant = pl.variants.find((v) => v.id === pl.rules[pl.rules.length - 1].variant)
    const list = bySelector.get(pl.selector) ?? []
    for (const op of variant.ops) {
      if (op.op === 'addClass') list.push({ op: 'addClass', className: op.value })
      else if (op.op === 'setAttr') list.push({ op: 'setAttr', name: op.name, value: fill(op.value) })
      else list.push({ op: op.op, value: fill(op.value) })
    }
    bySelector.set(pl.selector, list)
    void p
  }
  return [...bySelector]
}

/**
 * The bench ruleset with every placement moved off the bench pages (Veneer decides, then leaves
 * the page alone: `x-veneer: generic`), plus one placement on `/*\/*\/*\/*.html`, the glob the
 * slash-bomb path is measured against.
 */
export function aloneRuleset(ruleset) {
  return {
    ...ruleset,
    version: `${ruleset.version}-alone`,
    placements: [
      ...ruleset.placements.map((p) => ({ ...p, paths: ['/elsewhere/*'] })),
      { ...ruleset.placements[0], id: 'pl-deep', paths: ['/*/*/*/*.html'], selector: '#never-on-the-page' },
    ],
  }
}
