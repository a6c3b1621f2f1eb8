/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { raw } from 'hono/html'
import { Layout } from '../admin/dashboard/layout'
import { Csrf } from '../admin/dashboard/preview'
import type { RulesetIssue } from '../rules/errors'
import type { CompiledRuleset } from '../rules/compile'
import { EDITOR_OPS, NEW_PLACEMENT } from './change'
import { EDITOR_SCRIPT } from './client'
import type { Draft } from './draft'
import { type PreviewVisitor, visitorQuery } from './visitor'

const CSS = `
.editor{display:grid;gap:.75rem}
@media(min-width:1000px){.editor{grid-template-columns:minmax(0,1fr) 24rem}}
.frame-wrap{background:#fff;border:1px solid #dde1e6;border-radius:8px;overflow:hidden}
iframe#frame{display:block;width:100%;height:70vh;border:0;background:#fff}
.side{display:grid;gap:.75rem;align-content:start}
.placeholders{display:flex;flex-wrap:wrap;gap:.25rem;margin-top:.3rem}
.placeholders button{min-height:1.8rem;padding:.1rem .45rem;font-size:.78rem;background:#e8eefc;color:#14213d;border-color:#c5d3f5}
.check{margin:.3rem 0 0;font-size:.85rem;padding:.3rem .5rem}
header.top a{color:#fff}
[hidden]{display:none!important}
`

/** Attributes offered as `{{placeholders}}` (SPEC 4.2); each is HTML-escaped when filled. */
const PLACEHOLDERS = [
  'geo.country',
  'geo.city',
  'geo.region',
  'device.type',
  'time.hour',
  'time.dayOfWeek',
  'request.language',
  'request.utm.source',
  'request.utm.campaign',
  'visitor.sessions',
  'behavior.pageViews',
  'profile.tier',
]

export interface EditorProps {
  csrf: string
  nonce: string
  path: string
  visitor: PreviewVisitor
  /** Which ruleset the frame shows: the draft (when there is one) or the active one. */
  view: 'draft' | 'active'
  /** The document the next save builds on (the draft's, else the active one), compiled. */
  ruleset?: CompiledRuleset
  activeVersion?: string
  draft?: { draft: Draft; issues: RulesetIssue[] }
  flash?: { kind: 'ok' | 'error'; text: string }
  errors?: string[]
  /** The save form's values after a refused save. */
  form?: Record<string, string>
}

function PreviewAs({ p }: { p: EditorProps }) {
  const v = p.visitor
  return (
    <form method="get" action="/__veneer/admin/editor" class="card" id="preview-as">
      <h2>Page and visitor</h2>
      <div class="row">
        <div>
          <label for="ed-path">Page path</label>
          <input id="ed-path" name="path" type="text" value={p.path} maxlength={1000} />
        </div>
        <div>
          <label for="ed-country">Country</label>
          <input id="ed-country" name="country" type="text" value={v.country} placeholder="real" maxlength={2} />
        </div>
        <div>
          <label for="ed-city">City</label>
          <input id="ed-city" name="city" type="text" value={v.city} maxlength={80} />
        </div>
        <div>
          <label for="ed-device">Device</label>
          <select id="ed-device" name="device">
            {['', 'desktop', 'mobile', 'tablet'].map((d) => (
              <option value={d} selected={v.device === d}>
                {d === '' ? 'as detected' : d}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="ed-hour">Local hour</label>
          <select id="ed-hour" name="hour">
            {['', ...Array.from({ length: 24 }, (_, h) => String(h))].map((h) => (
              <option value={h} selected={v.hour === h}>
                {h === '' ? 'now' : `${h}:00`}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="ed-view">Ruleset</label>
          <select id="ed-view" name="view">
            <option value="draft" selected={p.view === 'draft'}>
              draft{p.draft === undefined ? ' (none: active)' : ''}
            </option>
            <option value="active" selected={p.view === 'active'}>
              active
            </option>
          </select>
        </div>
      </div>
      <div class="actions">
        <button type="submit">Show</button>
      </div>
    </form>
  )
}

function ChangeForm({ p }: { p: EditorProps }) {
  const f = p.form ?? {}
  const placements = p.ruleset?.doc.placements ?? []
  const segments = p.ruleset?.doc.segments ?? []
  const op = f.op ?? 'setText'
  return (
    <form method="post" action="/__veneer/admin/editor/save" class="card" id="change">
      <h2>Change the picked element</h2>
      <Csrf token={p.csrf} />
      <input type="hidden" name="path" value={p.path} />
      {Object.entries(p.visitor).map(([k, v]) => (
        <input type="hidden" name={`visitor.${k}`} value={v} />
      ))}
      <p class="muted" id="picked">
        Nothing picked yet.
      </p>
      <label for="selector">Selector</label>
      <input id="selector" name="selector" type="text" value={f.selector ?? ''} maxlength={500} autocomplete="off" />
      <p id="selector-check" class="check muted" aria-live="polite"></p>
      <p id="placement-hint" class="muted" hidden>
        This element is its placement's target, and that placement's own selector singles it out too. An operation with a selector
        of its own applies on every page of the placement's paths, where a short selector may match something else.{' '}
        <button type="button" class="small secondary" id="use-placement-selector">
          Use the placement's selector
        </button>
      </p>
      <label for="op">Operation</label>
      <select id="op" name="op">
        {Object.keys(EDITOR_OPS).map((o) => (
          <option value={o} selected={o === op}>
            {o}
          </option>
        ))}
      </select>
      <div id="name-row">
        <label for="name">Attribute name</label>
        <input id="name" name="name" type="text" value={f.name ?? ''} maxlength={100} />
      </div>
      <div id="value-row">
        <label for="value">Value</label>
        <textarea id="value" name="value" rows={3}>
          {f.value ?? ''}
        </textarea>
        <div class="placeholders" aria-label="Insert a placeholder">
          {PLACEHOLDERS.map((a) => (
            <button type="button" data-placeholder={a} title={`Insert {{${a}}}: filled per visitor, HTML-escaped`}>
              {a}
            </button>
          ))}
        </div>
      </div>
      <h3>Save as a variant</h3>
      <label for="placement">Placement</label>
      <select id="placement" name="placement">
        {placements.map((pl) => (
          <option value={pl.id} selected={f.placement === pl.id}>
            {pl.id} ({pl.selector})
          </option>
        ))}
        <option value={NEW_PLACEMENT} selected={f.placement === NEW_PLACEMENT || placements.length === 0}>
          new placement on this page…
        </option>
      </select>
      <div id="new-placement-row">
        <label for="new-placement">New placement id</label>
        <input id="new-placement" name="newPlacement" type="text" value={f.newPlacement ?? ''} maxlength={100} />
      </div>
      <label for="variant">Variant id</label>
      <input id="variant" name="variant" type="text" value={f.variant ?? ''} maxlength={100} placeholder="e.g. germany-summer" />
      <label for="audience">Who sees it</label>
      <select id="audience" name="audience">
        <option value="everyone" selected={f.audience === 'everyone'}>
          everyone no other rule matches
        </option>
        {segments.map((s) => (
          <option value={`segment:${s.id}`} selected={f.audience === `segment:${s.id}`}>
            segment {s.id}
          </option>
        ))}
      </select>
      <label>
        <input id="as-experiment" name="asExperiment" type="checkbox" value="1" checked={f.asExperiment !== undefined} /> as an
        experiment, 50/50 against control
      </label>
      <div id="experiment-row">
        <label for="experiment">Experiment id</label>
        <input id="experiment" name="experiment" type="text" value={f.experiment ?? ''} maxlength={100} />
      </div>
      <div class="actions">
        <button type="submit" id="save">
          Save to draft
        </button>
      </div>
      <p class="muted">
        Saved changes go to a draft; nobody sees them until you publish. A segment rule goes first, so it wins over the
        placement's other rules for those visitors.
      </p>
    </form>
  )
}

function DraftCard({ p }: { p: EditorProps }) {
  const d = p.draft
  return (
    <section class="card" id="draft">
      <h2>Draft</h2>
      {d === undefined ? (
        <p class="muted">No draft: the editor shows the active ruleset ({p.activeVersion ?? 'none'}).</p>
      ) : (
        <div>
          <p class="muted">
            Based on {d.draft.base ?? 'no ruleset'}, saved {d.draft.savedAt}.
          </p>
          {d.draft.base === p.activeVersion ? null : (
            <p class="warn" data-testid="draft-stale">
              The active ruleset changed since this draft was started (draft based on {d.draft.base ?? 'none'}, active{' '}
              {p.activeVersion ?? 'none'}). Publishing the draft replaces the active ruleset, including those changes.
            </p>
          )}
          <ul data-testid="draft-edits">
            {d.draft.edits.map((e) => (
              <li>{e}</li>
            ))}
          </ul>
          {d.issues.length === 0 ? (
            <p class="ok">The draft validates.</p>
          ) : (
            <div class="error" role="alert">
              <b>The draft does not validate:</b>
              <ul class="issues">
                {d.issues.map((i) => (
                  <li>
                    <code>{i.path === '' ? '(root)' : i.path}</code>: {i.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div class="actions">
            <form method="post" action="/__veneer/admin/editor/publish">
              <Csrf token={p.csrf} />
              <input type="hidden" name="path" value={p.path} />
              <button type="submit" id="publish" disabled={d.issues.length > 0}>
                Publish draft
              </button>
            </form>
            <form method="post" action="/__veneer/admin/editor/discard">
              <Csrf token={p.csrf} />
              <input type="hidden" name="path" value={p.path} />
              <button type="submit" class="secondary">
                Discard draft
              </button>
            </form>
          </div>
        </div>
      )}
    </section>
  )
}

/** The visual editor (SPEC 16): the page in a frame with a picker, the change form, the draft. */
export function EditorPage(p: EditorProps) {
  const src = `/__veneer/admin/editor/frame?${visitorQuery(p.path, p.visitor, p.view)}`
  return (
    <Layout title="Veneer visual editor">
      <style>{raw(CSS)}</style>
      <header class="top">
        <h1>Veneer visual editor</h1>
        <span>
          Active ruleset{' '}
          <span class="ver" data-testid="active-version">
            {p.activeVersion ?? 'none'}
          </span>
        </span>
        <a href="/__veneer/admin">Dashboard</a>
      </header>
      <main>
        {p.flash === undefined ? null : (
          <p class={p.flash.kind === 'ok' ? 'ok' : 'error'} role="status">
            {p.flash.text}
          </p>
        )}
        {p.errors === undefined || p.errors.length === 0 ? null : (
          <div class="error" role="alert">
            <b>Not saved:</b>
            <ul class="issues">
              {p.errors.map((e) => (
                <li>{e}</li>
              ))}
            </ul>
          </div>
        )}
        <PreviewAs p={p} />
        <div class="editor">
          <div>
            <p class="muted" id="frame-status">
              Loading the page…
            </p>
            <div class="frame-wrap">
              <iframe id="frame" title={`The page ${p.path} as Veneer serves it`} src={src}></iframe>
            </div>
          </div>
          <div class="side">
            <ChangeForm p={p} />
            <DraftCard p={p} />
          </div>
        </div>
      </main>
      <script nonce={p.nonce}>{raw(EDITOR_SCRIPT)}</script>
    </Layout>
  )
}
