import { SUPPORTED_SELECTOR } from '../rules/selector'

/** What the picker in the framed page knows. */
export interface PickerConfig {
  /** Placements that apply to this path, with their selectors. */
  placements: { id: string; selector: string }[]
  /** The simulated attributes, to fill `{{placeholders}}` in the live preview. */
  context: Record<string, string>
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`). */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * The picker, run inside the framed page only (issue 15; never on a visitor's page): hover
 * highlights, click selects and proposes the shortest selector in HTMLRewriter's subset
 * (`SUPPORTED_SELECTOR`, the same grammar the publish check uses) that matches that element and
 * only it in this page; messages from the editor (same origin, parent window only) preview an
 * operation live, undoing the previous preview first.
 */
export function pickerScript(config: PickerConfig): string {
  return `(() => {
'use strict'
const C = ${scriptJson(config)}
const RX = new RegExp(${scriptJson(SUPPORTED_SELECTOR.source)})
const IDENT = /^-?[_a-zA-Z\\u00a0-\\uffff][_a-zA-Z0-9\\u00a0-\\uffff-]*$/
const ORIGIN = location.origin
if (window.parent === window) return
const send = (m) => window.parent.postMessage(m, ORIGIN)
const overlay = (color) => {
  const b = document.createElement('div')
  b.setAttribute('data-veneer-picker', '')
  Object.assign(b.style, { position: 'fixed', pointerEvents: 'none', zIndex: '2147483647', outline: '2px solid ' + color, background: color + '22', display: 'none', borderRadius: '2px' })
  document.documentElement.appendChild(b)
  return b
}
const hoverBox = overlay('#1f6feb')
const pickBox = overlay('#e8590c')
let selected = null
let undo = []
const place = (b, el) => {
  if (!el || !el.isConnected) { b.style.display = 'none'; return }
  const r = el.getBoundingClientRect()
  Object.assign(b.style, { display: 'block', left: r.left + 'px', top: r.top + 'px', width: r.width + 'px', height: r.height + 'px' })
}
const pickable = (el) => el instanceof Element && el !== document.documentElement && el !== document.body && !el.hasAttribute('data-veneer-picker')
const quote = (v) => '"' + v.replace(/["\\\\]/g, '\\\\$&') + '"'
function simple(el) {
  const tag = el.tagName.toLowerCase()
  if (!IDENT.test(tag)) return []
  const out = [tag]
  if (el.id && IDENT.test(el.id)) out.push('#' + el.id, tag + '#' + el.id)
  const cls = [...el.classList].filter((c) => IDENT.test(c)).slice(0, 4)
  for (const c of cls) out.push('.' + c, tag + '.' + c)
  if (cls.length > 1) out.push(tag + cls.map((c) => '.' + c).join(''))
  for (const a of ['name', 'type', 'role', 'for', 'alt', 'title', 'aria-label', 'data-testid', 'href', 'src']) {
    const v = el.getAttribute(a)
    if (v !== null && v.length > 0 && v.length <= 80 && !/[\\n\\r\\t]/.test(v)) out.push(tag + '[' + a + '=' + quote(v) + ']')
  }
  const p = el.parentElement
  if (p) {
    const same = [...p.children].filter((s) => s.tagName === el.tagName)
    if (same.length > 1) out.push(tag + ':nth-of-type(' + (same.indexOf(el) + 1) + ')')
  }
  return out
}
function count(sel) {
  if (!RX.test(sel)) return -1
  try { return document.querySelectorAll(sel).length } catch { return -1 }
}
function only(sel, el) {
  if (!RX.test(sel)) return false
  try { const m = document.querySelectorAll(sel); return m.length === 1 && m[0] === el } catch { return false }
}
function shortest(el) {
  const mine = simple(el)
  const all = new Set(mine)
  let a = el.parentElement
  for (let depth = 0; a && a !== document.documentElement && depth < 6; depth++, a = a.parentElement) {
    for (const p of simple(a)) for (const s of mine) { all.add(p + ' ' + s); if (depth === 0) all.add(p + ' > ' + s) }
  }
  for (const s of [...all].sort((x, y) => x.length - y.length || (x < y ? -1 : 1))) if (only(s, el)) return s
  const parts = []
  for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
    const tag = e.tagName.toLowerCase()
    const p = e.parentElement
    const same = p ? [...p.children].filter((s) => s.tagName === e.tagName) : []
    parts.unshift(same.length > 1 ? tag + ':nth-of-type(' + (same.indexOf(e) + 1) + ')' : tag)
  }
  const full = 'html > ' + parts.join(' > ')
  return only(full, el) ? full : ''
}
function restore() {
  for (const f of undo.reverse()) { try { f() } catch {} }
  undo = []
}
const fill = (v) => String(v).replace(/\\{\\{\\s*([A-Za-z0-9_.:-]+)\\s*\\}\\}/g, (m, k) => (Object.hasOwn(C.context, k) ? C.context[k] : m))
const nodes = (html) => { const t = document.createElement('template'); t.innerHTML = html; return [...t.content.childNodes] }
function applyOp(el, m) {
  const value = fill(m.value || '')
  const inner = el.innerHTML
  const cls = el.getAttribute('class')
  switch (m.op) {
    case 'setText': el.textContent = value; undo.push(() => { el.innerHTML = inner }); break
    case 'setHtml': el.innerHTML = value; undo.push(() => { el.innerHTML = inner }); break
    case 'prepend': el.prepend(...nodes(value)); undo.push(() => { el.innerHTML = inner }); break
    case 'append': el.append(...nodes(value)); undo.push(() => { el.innerHTML = inner }); break
    case 'before': { const n = nodes(value); el.before(...n); undo.push(() => n.forEach((x) => x.remove())); break }
    case 'after': { const n = nodes(value); el.after(...n); undo.push(() => n.forEach((x) => x.remove())); break }
    case 'replace': case 'remove': {
      const mark = document.createComment('veneer-preview')
      const n = m.op === 'replace' ? nodes(value) : []
      el.replaceWith(mark, ...n)
      undo.push(() => { n.forEach((x) => x.remove()); mark.replaceWith(el) })
      break
    }
    case 'setAttr': case 'removeAttr': {
      if (!/^[A-Za-z_:][A-Za-z0-9_.:-]*$/.test(m.name || '')) return
      const old = el.getAttribute(m.name)
      if (m.op === 'setAttr') el.setAttribute(m.name, value); else el.removeAttribute(m.name)
      undo.push(() => { if (old === null) el.removeAttribute(m.name); else el.setAttribute(m.name, old) })
      break
    }
    case 'addClass': case 'removeClass': {
      const c = (m.value || '').trim()
      if (c === '' || /\\s/.test(c)) return
      if (m.op === 'addClass') el.classList.add(c); else el.classList.remove(c)
      undo.push(() => { if (cls === null) el.removeAttribute('class'); else el.setAttribute('class', cls) })
      break
    }
  }
}
function pick(el) {
  restore()
  selected = el
  place(pickBox, el)
  const selector = shortest(el)
  const placement = C.placements.find((p) => { try { return el.matches(p.selector) } catch { return false } })
  send({ type: 'veneer:selected', selector, count: selector === '' ? 0 : 1, tag: el.tagName.toLowerCase(),
    text: (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 500), placement: placement ? placement.id : '',
    placementSelector: placement && only(placement.selector, el) ? placement.selector : '',
    attributes: [...el.attributes].map((a) => a.name).slice(0, 20), classes: [...el.classList].slice(0, 20) })
}
document.addEventListener('mouseover', (e) => { if (pickable(e.target)) place(hoverBox, e.target) }, true)
document.addEventListener('mouseout', () => { hoverBox.style.display = 'none' }, true)
document.addEventListener('click', (e) => { e.preventDefault(); e.stopPropagation(); if (pickable(e.target)) pick(e.target) }, true)
document.addEventListener('submit', (e) => e.preventDefault(), true)
addEventListener('scroll', () => { hoverBox.style.display = 'none'; place(pickBox, selected) }, true)
addEventListener('resize', () => place(pickBox, selected))
addEventListener('message', (e) => {
  if (e.origin !== ORIGIN || e.source !== window.parent || typeof e.data !== 'object' || e.data === null) return
  const m = e.data
  if (m.type === 'veneer:hello') send({ type: 'veneer:ready', placements: C.placements.map((p) => p.id), path: location.pathname })
  if (m.type === 'veneer:preview') {
    restore()
    const n = count(m.selector || '')
    send({ type: 'veneer:checked', selector: m.selector, count: n, valid: n >= 0, includesPicked: selected !== null && n > 0 && [...document.querySelectorAll(m.selector)].includes(selected) })
    if (n > 0 && n <= 50 && m.op) for (const el of document.querySelectorAll(m.selector)) applyOp(el, m)
    place(pickBox, selected && selected.isConnected ? selected : null)
  }
})
send({ type: 'veneer:ready', placements: C.placements.map((p) => p.id), path: location.pathname })
})()`
}
