import { reasonText } from '../decide/reason'
import type { Decision } from '../decide/types'
import { escapeHtml } from '../rewrite/template'
import { coerceQaValue } from './fields'
import type { QaRequest } from './overrides'

/** The id of the badge element, so a page (or a test) can find it. */
export const QA_BADGE_ID = 'veneer-qa-badge'

function remaining(seconds: number): string {
  if (seconds <= 0) return 'expired'
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min` : `${seconds} s`
}

function utc(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

// Inline styles only: the badge brings no stylesheet and no script, so it works under the site's
// own CSP (unless that forbids inline style attributes, where it is plain but still readable).
const BOX =
  'position:fixed;z-index:2147483647;right:8px;bottom:8px;max-width:min(380px,calc(100vw - 16px));max-height:70vh;overflow:auto;' +
  'font:13px/1.4 system-ui,-apple-system,sans-serif;color:#fff;background:#14213d;border-radius:8px;box-shadow:0 2px 10px rgba(0,0,0,.35);text-align:left'
const SUMMARY = 'cursor:pointer;padding:8px 12px;font-weight:600;list-style-position:inside'
const BODY = 'padding:0 12px 10px'
const CELL = 'padding:2px 6px 2px 0;vertical-align:top;border:0;color:#fff;background:none'
const LINK = 'color:#fca311;text-decoration:underline;display:inline-block;padding:6px 0'
const CODE = 'font-family:ui-monospace,monospace;font-size:12px'

/**
 * The on-page QA badge (issue 15): appended to `<body>` by the edge, only for a browser in QA
 * mode (a valid `veneer_qa` cookie). It lists each placement's variant and why, the simulated
 * context, the overrides, the token's expiry, and a link that leaves QA mode. A `<details>`
 * element keeps it one line tall until opened, and it fits a phone screen. Everything from the
 * ruleset or the tester is HTML-escaped.
 *
 * @example qaBadge(decision, qa, Math.floor(Date.now() / 1000))
 */
export function qaBadge(decision: Decision, qa: QaRequest, nowSeconds: number): string {
  const rows = decision.placements
    .map(
      (p) =>
        `<tr data-placement="${escapeHtml(p.placement)}"><td style="${CELL}">${escapeHtml(p.placement)}</td>` +
        `<td style="${CELL}"><b data-variant>${escapeHtml(p.variant)}</b></td>` +
        `<td style="${CELL};color:#c9d1e0">${escapeHtml(reasonText(p.reason))}</td></tr>`,
    )
    .join('')
  const simulated = [...qa.context]
    .filter(([k, v]) => coerceQaValue(k, v) !== undefined)
    .map(([k, v]) => `<code style="${CODE}">${escapeHtml(`${k}=${v}`)}</code>`)
    .join(', ')
  const overrides = [...qa.overrides].map(([k, v]) => `<code style="${CODE}">${escapeHtml(`${k}=${v}`)}</code>`).join(', ')
  const expiry =
    qa.expiresAt === undefined
      ? ''
      : `<p style="margin:6px 0" data-expires="${qa.expiresAt}">Token expires in ${remaining(qa.expiresAt - nowSeconds)} (${utc(qa.expiresAt)}).</p>`
  const count = decision.placements.length
  return (
    `<div id="${QA_BADGE_ID}" role="region" aria-label="Veneer QA mode" style="${BOX}">` +
    `<details><summary style="${SUMMARY}">Veneer QA mode · ${count} placement${count === 1 ? '' : 's'}</summary>` +
    `<div style="${BODY}">` +
    (count === 0
      ? '<p style="margin:6px 0">No placement applies to this page.</p>'
      : `<table style="border-collapse:collapse;margin:4px 0;width:100%;font-size:12px"><tbody>${rows}</tbody></table>`) +
    `<p style="margin:6px 0">Simulated visitor: ${simulated === '' ? 'none (your real context)' : simulated}</p>` +
    (overrides === '' ? '' : `<p style="margin:6px 0">Overrides: ${overrides}</p>`) +
    (decision.segments.length === 0
      ? ''
      : `<p style="margin:6px 0">Segments: ${decision.segments.map((s) => escapeHtml(s)).join(', ')}</p>`) +
    expiry +
    `<p style="margin:6px 0"><a style="${LINK}" href="/__veneer/qa">Change</a> · ` +
    `<a style="${LINK}" href="/__veneer/qa?clear=1" data-leave-qa>Leave QA mode</a></p>` +
    '</div></details></div>'
  )
}
