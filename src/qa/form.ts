import type { CompiledRuleset } from '../rules/compile'
import { CONTROL } from '../rules/compile'
import { escapeHtml } from '../rewrite/template'
import { coerceQaValue } from './fields'

/** Query fields of the QA form: `o.<placement or experiment id>` and `c.<attribute>`. */
const OVERRIDE_FIELD = 'o.'
const CONTEXT_FIELD = 'c.'
/** The form's marker: present when the choices below replace the stored override and context. */
export const FORM_MARKER = 'choices'

/** The context attributes the form offers as their own fields; the rest go in "more". */
const CONTEXT_CHOICES = ['geo.country', 'geo.city', 'device.type', 'time.hour'] as const

/**
 * The `override` and `context` texts a submitted QA form stands for (same syntax as the
 * `x-veneer-override` / `x-veneer-context` headers), or undefined when the request is not
 * a form submission. Empty choices are left out, so "no override" clears one.
 *
 * @example formChoices(new URLSearchParams('choices=1&o.home-hero=us&c.device.type=mobile'))
 * // { override: 'home-hero=us', context: 'device.type=mobile' }
 */
export function formChoices(params: URLSearchParams): { override: string; context: string } | undefined {
  if (!params.has(FORM_MARKER)) return undefined
  const overrides: string[] = []
  const context: string[] = []
  for (const [key, raw] of params) {
    const value = raw.trim()
    if (value === '' || /[,;=]/.test(value)) continue
    if (key.startsWith(OVERRIDE_FIELD)) overrides.push(`${key.slice(OVERRIDE_FIELD.length)}=${value}`)
    else if (key.startsWith(CONTEXT_FIELD)) context.push(`${key.slice(CONTEXT_FIELD.length)}=${value}`)
  }
  const more = params.get('more')?.trim()
  if (more) context.push(more)
  return { override: overrides.join(', '), context: context.join('; ') }
}

interface Choice {
  field: string
  label: string
  options: string[]
  current?: string
}

function choices(ruleset: CompiledRuleset | undefined, current: Map<string, string>): Choice[] {
  if (ruleset === undefined) return []
  const out: Choice[] = []
  for (const p of ruleset.placements) {
    out.push({
      field: p.id,
      label: `Placement ${p.id}`,
      options: [CONTROL, ...p.variants.keys()].filter((v, i, a) => a.indexOf(v) === i),
      current: current.get(p.id),
    })
    for (const r of p.rules) {
      if (r.experiment === undefined || out.some((c) => c.field === r.experiment?.id)) continue
      out.push({
        field: r.experiment.id,
        label: `Experiment ${r.experiment.id} (on ${p.id})`,
        options: Object.keys(r.experiment.split),
        current: current.get(r.experiment.id),
      })
    }
  }
  return out
}

function select(name: string, id: string, options: string[], current: string | undefined, empty: string): string {
  const opts = [`<option value="">${escapeHtml(empty)}</option>`]
  for (const o of options)
    opts.push(`<option value="${escapeHtml(o)}"${o === current ? ' selected' : ''}>${escapeHtml(o)}</option>`)
  if (current !== undefined && current !== '' && !options.includes(current))
    opts.push(`<option value="${escapeHtml(current)}" selected>${escapeHtml(current)} (not in the ruleset)</option>`)
  return `<select id="${escapeHtml(id)}" name="${escapeHtml(name)}">${opts.join('')}</select>`
}

export interface QaFormInput {
  ruleset: CompiledRuleset | undefined
  overrides: Map<string, string>
  context: Map<string, string>
  ignored: string[]
  /** Token expiry, seconds since the epoch. */
  expiresAt: number
  nonce: string
}

/**
 * The body of the "QA mode is on" page: the ruleset's placements, variants and experiments as
 * choices, the simulated visitor as fields, and the expiry, which a tiny nonce'd script rewrites
 * into the tester's own time zone (UTC is shown until it runs).
 */
export function qaFormBody(f: QaFormInput): string {
  const expires = new Date(f.expiresAt * 1000).toISOString()
  const shown = `${expires.slice(0, 16).replace('T', ' ')} UTC`
  const rows = choices(f.ruleset, f.overrides)
    .map(
      (c, i) =>
        `<label for="qa-o-${i}">${escapeHtml(c.label)}</label>${select(`o.${c.field}`, `qa-o-${i}`, c.options, c.current, 'as decided (no override)')}`,
    )
    .join('\n')
  const ctx = (k: string) => escapeHtml(f.context.get(k) ?? '')
  const more = [...f.context]
    .filter(([k]) => !(CONTEXT_CHOICES as readonly string[]).includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ')
  const hours = Array.from({ length: 24 }, (_, h) => String(h))
  const ignored =
    f.ignored.length === 0 ? '' : `<p>Ignored: ${f.ignored.map((i) => `<code>${escapeHtml(i)}</code>`).join(', ')}</p>`
  const simulated = [...f.context].filter(([k, v]) => coerceQaValue(k, v) !== undefined)
  return `<h1>QA mode is on</h1>
<p>This browser is in QA mode until <time datetime="${expires}" data-local>${shown}</time>. Pages carry a small "Veneer QA mode" badge that lists each placement's variant and why, and an <code>x-veneer-trace</code> header. Nothing you see is recorded as an exposure.</p>
<p>Forced variants: ${f.overrides.size === 0 ? '<em>none</em>' : [...f.overrides].map(([k, v]) => `<code>${escapeHtml(`${k}=${v}`)}</code>`).join(', ')}</p>
<p>Simulated visitor: ${simulated.length === 0 ? '<em>none</em>' : simulated.map(([k, v]) => `<code>${escapeHtml(`${k}=${v}`)}</code>`).join(', ')}</p>
${ignored}
<form method="get" action="/__veneer/qa">
<input type="hidden" name="${FORM_MARKER}" value="1">
<fieldset><legend>Force variants</legend>
${rows === '' ? '<p><em>No active ruleset, so there is nothing to choose from.</em></p>' : rows}
</fieldset>
<fieldset><legend>Simulate a visitor</legend>
<label for="qa-country">Country (two letters)</label><input id="qa-country" name="c.geo.country" value="${ctx('geo.country')}" maxlength="2" placeholder="DE">
<label for="qa-city">City</label><input id="qa-city" name="c.geo.city" value="${ctx('geo.city')}" maxlength="80" placeholder="Berlin">
<label for="qa-device">Device</label>${select('c.device.type', 'qa-device', ['desktop', 'mobile', 'tablet', 'bot'], f.context.get('device.type'), 'as detected')}
<label for="qa-hour">Local hour</label>${select('c.time.hour', 'qa-hour', hours, f.context.get('time.hour'), 'now')}
<label for="qa-more">More attributes (attribute=value; …)</label><input id="qa-more" name="more" value="${escapeHtml(more)}" placeholder="request.utm.source=newsletter; profile.tier=gold">
</fieldset>
<label for="qa-to">Then open</label><input id="qa-to" name="to" value="/">
<p><button type="submit">Apply</button></p>
</form>
<p><a href="/">Open the site</a> · <a href="/__veneer/qa?clear=1">Leave QA mode</a></p>
<script nonce="${f.nonce}">for(const t of document.querySelectorAll('time[data-local]')){const d=new Date(t.dateTime);if(!isNaN(d))t.textContent=d.toLocaleString(undefined,{year:'numeric',month:'short',day:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'})}</script>`
}

/** A fresh CSP nonce (128 random bits, base64). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
}
