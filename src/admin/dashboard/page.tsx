/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { RulesetIssue } from '../../rules/errors'
import type { CompiledRuleset } from '../../rules/compile'
import type { ConditionDoc, OperationDoc, RuleDoc } from '../../rules/schema'
import type { ActiveRuleset } from '../active'
import type { ExplainResult } from '../explain'
import type { ResultsLookup } from '../results-source'
import type { VersionEntry } from '../versions'
import { Layout } from './layout'
import { Csrf, Preview, type PreviewForm } from './preview'
import { ResultsView } from './results'
import { readableTime } from './time'

/** A stored time, readable, with the exact ISO value as its `datetime` and tooltip. */
const Time = ({ iso }: { iso: string }) => (
  <time datetime={iso} title={iso}>
    {readableTime(iso) ?? iso}
  </time>
)

export interface DashboardProps {
  csrf: string
  active: ActiveRuleset
  history: { active?: string; versions: VersionEntry[] }
  flash?: { kind: 'ok' | 'error'; text: string }
  draft?: string
  validation?: { ok: boolean; published?: boolean; issues: RulesetIssue[]; warnings: RulesetIssue[] }
  preview?: { form: PreviewForm; trace?: ExplainResult; error?: string }
  results: Map<string, ResultsLookup>
}

function condText(c: ConditionDoc | undefined): string {
  return c === undefined ? '' : JSON.stringify(c)
}

function ruleText(r: RuleDoc): string {
  const who =
    [r.segment === undefined ? '' : `segment ${r.segment}`, r.when === undefined ? '' : `when ${condText(r.when)}`]
      .filter(Boolean)
      .join(' and ') || 'everyone'
  const what =
    r.variant !== undefined
      ? `→ ${r.variant}`
      : r.experiment !== undefined
        ? `→ experiment ${r.experiment.id} (${Object.entries(r.experiment.split)
            .map(([k, w]) => `${k} ${w}`)
            .join(' / ')})`
        : ''
  return `${who} ${what}`
}

function opText(op: OperationDoc): string {
  const target = op.selector === undefined ? '' : ` on ${op.selector}`
  switch (op.op) {
    case 'remove':
      return `remove${target}`
    case 'removeAttr':
      return `removeAttr ${op.name}${target}`
    case 'setAttr':
      return `setAttr ${op.name}=${JSON.stringify(op.value)}${target}`
    case 'recommend':
      return `recommend ${op.count} ${op.strategy}${target}`
    default:
      return `${op.op} ${JSON.stringify(op.value)}${target}`
  }
}

function Issues({ title, issues, kind }: { title: string; issues: RulesetIssue[]; kind: 'error' | 'warn' }) {
  if (issues.length === 0) return null
  return (
    <div class={kind} role={kind === 'error' ? 'alert' : undefined}>
      <b>{title}</b>
      <ul class="issues">
        {issues.map((i) => (
          <li>
            <code>{i.path === '' ? '(root)' : i.path}</code>: {i.message}
          </li>
        ))}
      </ul>
    </div>
  )
}

function Placements({ ruleset }: { ruleset: CompiledRuleset }) {
  return (
    <section class="card" id="placements">
      <h2>Placements ({ruleset.doc.placements.length})</h2>
      {ruleset.doc.placements.length === 0 ? <p class="muted">No placements.</p> : null}
      {ruleset.doc.placements.map((pl) => (
        <details open={ruleset.doc.placements.length <= 4}>
          <summary>
            {pl.id} <span class="muted">on {pl.paths.join(', ')}</span>
          </summary>
          {pl.description === undefined ? null : <p class="muted">{pl.description}</p>}
          <p>
            Pages:{' '}
            {pl.paths.map((p) => (
              <code class="chip">{p}</code>
            ))}{' '}
            · selector <code>{pl.selector}</code>
          </p>
          <h4>Variants</h4>
          <ul>
            {pl.variants.map((v) => (
              <li>
                <b>{v.id}</b>:{' '}
                {v.ops.map((op, i) =>
                  i === 0 ? (
                    <code>{opText(op)}</code>
                  ) : (
                    <>
                      ; <code>{opText(op)}</code>
                    </>
                  ),
                )}
              </li>
            ))}
            <li>
              <b>control</b>: the page as the origin sends it
            </li>
          </ul>
          <h4>Rules, first match wins</h4>
          <ol start={0}>
            {pl.rules.map((r) => (
              <li class="mono">{ruleText(r)}</li>
            ))}
          </ol>
        </details>
      ))}
    </section>
  )
}

function Segments({ ruleset }: { ruleset: CompiledRuleset }) {
  return (
    <section class="card" id="segments">
      <h2>Segments ({ruleset.doc.segments.length})</h2>
      <p class="muted">
        <a href="/__veneer/admin/segments">Discover segments</a> in the visitor sample, and where a test's winner differs by
        segment.
      </p>
      <div class="scroll">
        <table>
          <tbody>
            {ruleset.doc.segments.map((s) => (
              <tr>
                <td>
                  <b>{s.id}</b>
                  {s.description === undefined ? null : <div class="muted">{s.description}</div>}
                </td>
                <td class="mono">{condText(s.when)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function Experiments({ ruleset, results }: { ruleset: CompiledRuleset; results: Map<string, ResultsLookup> }) {
  const experiments = ruleset.doc.placements.flatMap((pl) =>
    pl.rules.flatMap((r) => (r.experiment === undefined ? [] : [{ placement: pl.id, exp: r.experiment }])),
  )
  return (
    <section class="card wide" id="experiments">
      <h2>Experiments ({experiments.length})</h2>
      {experiments.length === 0 ? <p class="muted">No experiments in this ruleset.</p> : null}
      {experiments.map(({ placement, exp }) => {
        const r = results.get(exp.id)
        return (
          <details open>
            <summary>
              {exp.id}{' '}
              <span class="muted">
                on {placement}:{' '}
                {Object.entries(exp.split)
                  .map(([k, w]) => `${k} ${w}`)
                  .join(' / ')}
                {exp.traffic === undefined ? '' : `, ${exp.traffic}% of traffic`}
                {exp.layer === undefined ? '' : `, layer ${exp.layer}`}
              </span>
            </summary>
            {r?.results !== undefined ? (
              <ResultsView results={r.results} />
            ) : (
              <p class="muted">{r?.message ?? 'measurement not available'}</p>
            )}
          </details>
        )
      })}
    </section>
  )
}

function Publish({ csrf, draft, validation }: { csrf: string; draft: string; validation?: DashboardProps['validation'] }) {
  return (
    <section class="card wide" id="publish">
      <h2>Edit and publish</h2>
      {validation === undefined ? null : validation.ok ? (
        <p class="ok" role="status">
          {validation.published ? 'Published.' : 'Valid: nothing blocks a publish.'}
        </p>
      ) : (
        <Issues
          title={`Not valid (${validation.issues.length} problem${validation.issues.length === 1 ? '' : 's'}); nothing was published:`}
          issues={validation.issues}
          kind="error"
        />
      )}
      {validation === undefined ? null : <Issues title="Warnings" issues={validation.warnings} kind="warn" />}
      <form method="post" action="/__veneer/admin/publish#publish">
        <Csrf token={csrf} />
        <label for="ruleset">Ruleset JSON</label>
        <textarea id="ruleset" name="ruleset" class="doc" spellcheck={false}>
          {draft}
        </textarea>
        <label for="note">Note for the history (optional)</label>
        <input id="note" name="note" type="text" maxlength={200} />
        <div class="actions">
          <button type="submit" name="action" value="validate" class="secondary">
            Validate
          </button>
          <button type="submit" name="action" value="publish">
            Validate and publish
          </button>
        </div>
      </form>
    </section>
  )
}

function History({ csrf, history }: { csrf: string; history: DashboardProps['history'] }) {
  return (
    <section class="card wide" id="history">
      <h2>Versions</h2>
      {history.versions.length === 0 ? <p class="muted">No version published through the admin API yet.</p> : null}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>version</th>
              <th>published</th>
              <th>size</th>
              <th>note</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {history.versions.map((v) => (
              <tr data-version={v.version}>
                <td class="mono">
                  {v.version}
                  {v.version === history.active ? <span class="chip on">active</span> : null}
                </td>
                <td>
                  {v.publishedAt === '' ? 'unknown' : <Time iso={v.publishedAt} />}
                  {v.activatedAt === undefined ? null : (
                    <div class="muted">
                      rolled back to <Time iso={v.activatedAt} />
                    </div>
                  )}
                </td>
                <td>{(v.size / 1024).toFixed(1)} KB</td>
                <td>{v.note ?? ''}</td>
                <td>
                  {v.version === history.active ? null : (
                    <form method="post" action="/__veneer/admin/rollback">
                      <Csrf token={csrf} />
                      <input type="hidden" name="version" value={v.version} />
                      <button type="submit" class="small secondary">
                        Roll back to this
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

/** The dashboard (SPEC 7 `GET admin`). */
export function DashboardPage(p: DashboardProps) {
  const ruleset = p.active.ok ? p.active.ruleset : undefined
  const version = ruleset?.version ?? p.history.active
  return (
    <Layout title="Veneer admin">
      <header class="top">
        <h1>Veneer admin</h1>
        <span>
          Active ruleset{' '}
          <span class="ver" data-testid="active-version">
            {version ?? 'none'}
          </span>
        </span>
        <a href="/__veneer/admin/editor?path=/" style="color:#fff">
          Visual editor
        </a>
        <form method="post" action="/__veneer/admin/logout">
          <Csrf token={p.csrf} />
          <button type="submit" class="small secondary">
            Log out
          </button>
        </form>
      </header>
      <main>
        {p.flash === undefined ? null : (
          <p class={p.flash.kind === 'ok' ? 'ok' : 'error'} role="status">
            {p.flash.text}
          </p>
        )}
        {p.active.ok ? null : p.active.reason === 'none' ? (
          <p class="warn">No ruleset is published: every page is served as the origin sends it. Publish one below.</p>
        ) : (
          <Issues
            title="The stored ruleset does not validate; the Worker keeps serving its last good one:"
            issues={p.active.issues}
            kind="error"
          />
        )}
        <div class="grid">
          <Preview csrf={p.csrf} preview={p.preview} />
          {ruleset === undefined ? null : <Placements ruleset={ruleset} />}
          {ruleset === undefined ? null : <Segments ruleset={ruleset} />}
          {ruleset === undefined ? null : <Experiments ruleset={ruleset} results={p.results} />}
          <Publish
            csrf={p.csrf}
            draft={p.draft ?? (p.active.ok || p.active.reason === 'invalid' ? prettyText(p.active.text) : '')}
            validation={p.validation}
          />
          <History csrf={p.csrf} history={p.history} />
        </div>
      </main>
    </Layout>
  )
}

function prettyText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
