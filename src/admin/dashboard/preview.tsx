/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { reasonText } from '../../decide/reason'
import type { ExplainResult } from '../explain'

/** What the "preview as" form holds, as typed. */
export interface PreviewForm {
  country: string
  city: string
  device: string
  hour: string
  path: string
  utm: string
  profile: string
}

export const EMPTY_PREVIEW: PreviewForm = { country: '', city: '', device: 'desktop', hour: '', path: '/', utm: '', profile: '' }

/** The session's CSRF token, echoed by every dashboard form. */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="csrf" value={token} />
}

/** The "preview as" form and, after a submit, the decision trace. */
export function Preview({
  csrf,
  preview,
}: {
  csrf: string
  preview?: { form: PreviewForm; trace?: ExplainResult; error?: string }
}) {
  const f = preview?.form ?? EMPTY_PREVIEW
  const t = preview?.trace
  return (
    <section class="card" id="preview">
      <h2>Preview as</h2>
      <form method="post" action="/__veneer/admin/preview#preview">
        <Csrf token={csrf} />
        <div class="row">
          <div>
            <label for="pv-country">Country</label>
            <input id="pv-country" name="country" type="text" value={f.country} placeholder="DE" maxlength={2} />
          </div>
          <div>
            <label for="pv-city">City</label>
            <input id="pv-city" name="city" type="text" value={f.city} placeholder="Berlin" maxlength={80} />
          </div>
          <div>
            <label for="pv-device">Device</label>
            <select id="pv-device" name="device">
              {['desktop', 'mobile', 'tablet', 'bot'].map((d) => (
                <option value={d} selected={f.device === d}>
                  {d}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="pv-hour">Local hour</label>
            <input id="pv-hour" name="hour" type="number" min="0" max="23" value={f.hour} placeholder="now" />
          </div>
          <div>
            <label for="pv-path">Path</label>
            <input id="pv-path" name="path" type="text" value={f.path} maxlength={500} />
          </div>
          <div>
            <label for="pv-utm">utm_source</label>
            <input id="pv-utm" name="utm" type="text" value={f.utm} maxlength={100} />
          </div>
        </div>
        <label for="pv-profile">Profile claims (JSON)</label>
        <textarea id="pv-profile" name="profile" rows={2} placeholder='{"tier":"gold"}'>
          {f.profile}
        </textarea>
        <div class="actions">
          <button type="submit">Explain</button>
        </div>
      </form>
      {preview?.error === undefined ? null : (
        <p class="error" role="alert">
          {preview.error}
        </p>
      )}
      {t === undefined ? null : <Trace trace={t} />}
    </section>
  )
}

function Trace({ trace }: { trace: ExplainResult }) {
  return (
    <div class="trace" data-testid="trace">
      <h3>
        Result for <code>{trace.path}</code>: <span class="chip on">x-veneer: {trace.xVeneer ?? 'not handled'}</span>
      </h3>
      {trace.note === undefined ? null : <p class="muted">{trace.note}</p>}
      {trace.context === undefined ? null : (
        <p class="muted">
          {trace.context.geo.country ?? 'unknown country'}
          {trace.context.geo.city ? ` (${trace.context.geo.city})` : ''}, {trace.context.device.type},{' '}
          {trace.context.time.dayOfWeek} {String(trace.context.time.hour).padStart(2, '0')}:
          {String(trace.context.time.minute).padStart(2, '0')} local; ruleset {trace.rulesetVersion}
        </p>
      )}
      {trace.segments.length === 0 ? null : (
        <p>
          Segments:{' '}
          {trace.segments.map((s) => (
            <span class={s.matched ? 'chip on' : 'chip'} title={s.matched ? 'matched' : 'not matched'}>
              {s.id}
            </span>
          ))}
        </p>
      )}
      {trace.placements.length === 0 ? null : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>placement</th>
                <th>variant</th>
                <th>why</th>
                <th>rules (✓ matched)</th>
              </tr>
            </thead>
            <tbody>
              {trace.placements.map((p) => (
                <tr data-placement={p.placement}>
                  <td>{p.placement}</td>
                  <td>
                    <b>{p.variant}</b>
                  </td>
                  <td>{reasonText(p.reason)}</td>
                  <td class="mono">
                    {p.rules
                      .map((r) => `${r.index} ${r.segment ?? 'everyone'} ${r.matched ? '✓' : '·'}${r.decided ? ' ←' : ''}`)
                      .join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {trace.rewrite.length === 0 ? null : (
        <details open>
          <summary>What the page gets</summary>
          <ul>
            {trace.rewrite.flatMap((w) =>
              w.ops.map((op) => (
                <li>
                  <code>{w.selector}</code> {op.op}{' '}
                  {'value' in op ? <q>{op.value}</q> : 'className' in op ? op.className : 'name' in op ? op.name : ''}
                </li>
              )),
            )}
          </ul>
        </details>
      )}
    </div>
  )
}
