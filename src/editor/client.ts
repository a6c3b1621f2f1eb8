/**
 * The editor page's own script (nonce'd): talks to the picker in the frame by `postMessage`,
 * same origin only, and keeps the form in step with the picked element. No data leaves the page
 * but the form the user submits.
 */
export const EDITOR_SCRIPT = `(() => {
'use strict'
const $ = (id) => document.getElementById(id)
const frame = $('frame')
const ORIGIN = location.origin
const NAME_OPS = ['setAttr', 'removeAttr']
const NO_VALUE_OPS = ['remove', 'removeAttr']
let picked = null
function toFrame(m) { if (frame.contentWindow) frame.contentWindow.postMessage(m, ORIGIN) }
function preview() {
  const op = $('op').value
  $('name-row').hidden = !NAME_OPS.includes(op)
  $('value-row').hidden = NO_VALUE_OPS.includes(op)
  toFrame({ type: 'veneer:preview', selector: $('selector').value.trim(), op, name: $('name').value.trim(), value: $('value').value })
}
function newPlacement() { $('new-placement-row').hidden = $('placement').value !== '__new' }
function experiment() { $('experiment-row').hidden = !$('as-experiment').checked }
addEventListener('message', (e) => {
  if (e.origin !== ORIGIN || e.source !== frame.contentWindow || typeof e.data !== 'object' || e.data === null) return
  const m = e.data
  if (m.type === 'veneer:ready') { $('frame-status').textContent = 'Click an element in the page to change it.'; if ($('selector').value) preview() }
  if (m.type === 'veneer:selected') {
    picked = m
    $('selector').value = m.selector
    $('picked').textContent = m.selector === '' ? 'No selector in HTMLRewriter\\'s subset singles out this element.' : '<' + m.tag + '> picked: the selector below matches it and only it.'
    const hint = $('placement-hint')
    hint.hidden = !m.placementSelector || m.placementSelector === m.selector
    if (!hint.hidden) {
      $('use-placement-selector').textContent = 'Use ' + m.placementSelector
      $('use-placement-selector').dataset.selector = m.placementSelector
    }
    if (m.placement) $('placement').value = m.placement
    else if ($('placement').value !== '__new') $('placement').value = '__new'
    newPlacement()
    if (['setText', 'setHtml'].includes($('op').value) && m.text) $('value').value = m.text
    $('save').disabled = m.selector === ''
    preview()
  }
  if (m.type === 'veneer:checked' && m.selector === $('selector').value.trim()) {
    const s = $('selector-check')
    if (!m.valid) { s.textContent = 'Not in the CSS subset HTMLRewriter supports.'; s.className = 'error' }
    else if (m.count === 0) { s.textContent = 'Matches nothing on this page.'; s.className = 'warn' }
    else if (m.count > 1) { s.textContent = 'Matches ' + m.count + ' elements on this page.'; s.className = 'warn' }
    else if (picked && !m.includesPicked) { s.textContent = 'Matches one element, not the one you picked.'; s.className = 'warn' }
    else { s.textContent = 'Matches exactly one element on this page.'; s.className = 'ok' }
  }
})
for (const id of ['op', 'name', 'value', 'selector']) $(id).addEventListener('input', preview)
$('placement').addEventListener('change', newPlacement)
$('use-placement-selector').addEventListener('click', (e) => {
  $('selector').value = e.currentTarget.dataset.selector || ''
  $('placement-hint').hidden = true
  preview()
})
$('as-experiment').addEventListener('change', experiment)
for (const b of document.querySelectorAll('[data-placeholder]')) {
  b.addEventListener('click', () => {
    const v = $('value')
    const token = '{{' + b.getAttribute('data-placeholder') + '}}'
    const at = v.selectionStart ?? v.value.length
    v.value = v.value.slice(0, at) + token + v.value.slice(v.selectionEnd ?? at)
    v.focus()
    v.selectionStart = v.selectionEnd = at + token.length
    preview()
  })
}
newPlacement()
experiment()
toFrame({ type: 'veneer:hello' }) // in case the frame was ready before this script ran
})()`
