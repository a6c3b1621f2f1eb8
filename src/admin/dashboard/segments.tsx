/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { DiscoverOutcome, OpportunitiesOutcome } from '../../routes/segments'
import type { DiscoveredCluster } from '../../segments/discover'
import type { SegmentResult } from '../../segments/opportunities'
import { Layout } from './layout'
import { Csrf } from './preview'

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`)
const num = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v < 0.001 ? v.toExponential(1) : v.toFixed(3)

function Top({ title }: { title: string }) {
  return (
    <header class="top">
      <h1>{title}</h1>
      <a href="/__veneer/admin" style="color:#fff">
        Back to the dashboard
      </a>
    </header>
  )
}

function ClusterCard({ c, csrf }: { c: DiscoveredCluster; csrf: string }) {
  const top = Object.entries(c.centroid)
  return (
    <section class="card" data-testid="cluster">
      <h2>
        Cluster {c.id}: {c.size} visitors ({pct(c.share)})
      </h2>
      <p class="mono">{c.when === null ? 'No column can be described as a condition.' : JSON.stringify(c.when)}</p>
      <p class="muted">
        The condition agrees with the cluster on {pct(c.accuracy)} of visitors; {pct(c.precision)} of those it matches are in the
        cluster (precision), and it matches {pct(c.recall)} of the cluster (recall).
      </p>
      <details>
        <summary>Average visitor in this cluster</summary>
        <table>
          <tbody>
            {top.map(([k, v]) => (
              <tr>
                <td class="mono">{k}</td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {c.when === null ? null : (
        <form method="post" action="/__veneer/admin/segments/add">
          <Csrf token={csrf} />
          <input type="hidden" name="when" value={JSON.stringify(c.when)} />
          <input
            type="hidden"
            name="description"
            value={`Discovered: ${c.size} visitors (${pct(c.share)}), condition accuracy ${pct(c.accuracy)}`}
          />
          <label for={`seg-${c.id}`}>Segment id</label>
          <input type="text" id={`seg-${c.id}`} name="id" value={`cluster-${c.id}`} required />
          <div class="actions">
            <button type="submit">Add to a draft ruleset</button>
          </div>
        </form>
      )}
    </section>
  )
}

/** `GET admin/segments`: discovered clusters, each with "add to a draft". */
export function SegmentsPage({
  csrf,
  outcome,
  experiments,
  computed,
}: {
  csrf: string
  outcome: DiscoverOutcome
  experiments: string[]
  /** When the result was computed, whether it is the stored latest one, and over how many days. */
  computed: { at: string; stored: boolean; days: number }
}) {
  return (
    <Layout title="Veneer: discovered segments">
      <Top title="Discovered segments" />
      <main>
        <p data-testid="computed">
          {computed.stored ? 'Latest discovery' : 'Computed now'}: {computed.at.slice(0, 16).replace('T', ' ')} UTC, over the last{' '}
          {computed.days} days of sample. <a href="?fresh=1">Recompute now</a> (bounded: a subsample of at most 1,000 rows; the
          command line clusters them all).
        </p>
        {outcome.ok ? (
          <p>
            {outcome.result.rows} sampled visitors
            {outcome.result.sampledFrom === undefined ? '' : ` (a subsample of ${outcome.result.sampledFrom})`},{' '}
            <b>k = {outcome.result.k}</b>, silhouette {outcome.result.silhouette}
            {outcome.result.tried === undefined
              ? null
              : ` (tried ${outcome.result.tried.map((t) => `${t.k}: ${t.silhouette}`).join(', ')})`}
            . Dates in conditions count back from {outcome.result.asOf}. See docs/segments.md before trusting a cluster.
          </p>
        ) : (
          <p class="warn">{outcome.details}</p>
        )}
        <div class="grid">{outcome.ok ? outcome.result.clusters.map((c) => <ClusterCard c={c} csrf={csrf} />) : null}</div>
        {experiments.length === 0 ? null : (
          <section class="card">
            <h2>Where a test's winner differs by segment</h2>
            <ul>
              {experiments.map((id) => (
                <li>
                  <a href={`/__veneer/admin/opportunities/${encodeURIComponent(id)}`}>{id}</a>
                </li>
              ))}
            </ul>
          </section>
        )}
      </main>
    </Layout>
  )
}

function SegmentRow({ s, arms, winner }: { s: SegmentResult; arms: string[]; winner: string | null }) {
  const differs = s.best !== null && s.best !== winner && s.pAdjusted !== null
  return (
    <tr data-testid={`segment-${s.id}`}>
      <td>
        <b>{s.id}</b> <span class="muted">{s.source}</span>
        {s.basis === 'sample' ? (
          <span class="warn" title="Estimated on the daily sample, not counted at exposure: noisier and approximate">
            {' '}
            estimate on the sample (n = {s.visitors})
          </span>
        ) : null}
      </td>
      <td>
        {s.visitors} ({pct(s.share)})
      </td>
      {arms.map((a) => (
        <td>{pct(s.arms[a]?.rate ?? null, 2)}</td>
      ))}
      <td>
        <b>{s.best ?? '–'}</b>
        {differs ? ' (differs)' : ''}
      </td>
      <td>
        {s.lift === null ? '–' : `${(s.lift * 100).toFixed(2)} pts`}
        {s.ci95 === null ? '' : ` [${(s.ci95[0] * 100).toFixed(2)}, ${(s.ci95[1] * 100).toFixed(2)}]`}
        {s.comparedWith === null ? '' : ` vs ${s.comparedWith}`}
      </td>
      <td>{num(s.pValue)}</td>
      <td>{num(s.pAdjusted)}</td>
      <td class="muted">{s.note ?? ''}</td>
    </tr>
  )
}

/** A condition to estimate on the sample (`?when=`), beside the discovered clusters. */
function WhenForm({ when }: { when: string }) {
  return (
    <form method="get" class="card">
      <label for="when">
        Estimate a condition on the sample (JSON, on behavior.*, visitor.sessions, visitor.firstSeen, device.type, geo.continent)
      </label>
      <input type="text" id="when" name="when" value={when} placeholder='{"behavior.purchases": {"$gte": 2}}' />
      <div class="actions">
        <button type="submit" class="secondary">
          Estimate
        </button>
      </div>
    </form>
  )
}

/** `GET admin/opportunities/:experimentId`: per-segment results and opportunities. */
export function OpportunitiesPage({
  experiment,
  outcome,
  when = '',
}: {
  experiment: string
  outcome: OpportunitiesOutcome
  /** The condition typed in the form, shown back. */
  when?: string
}) {
  if (!outcome.ok)
    return (
      <Layout title={`Veneer: ${experiment} by segment`}>
        <Top title={`${experiment} by segment`} />
        <main>
          <p class="warn">{outcome.details}</p>
          {outcome.error === 'invalid_condition' ? <WhenForm when={when} /> : null}
        </main>
      </Layout>
    )
  const r = outcome.report
  const arms = Object.keys(r.overall)
  return (
    <Layout title={`Veneer: ${experiment} by segment`}>
      <Top title={`${experiment} by segment`} />
      <main>
        <p>
          Goal <b>{r.goal}</b>
          {r.goals.length > 1 ? (
            <span>
              {' '}
              (also:{' '}
              {r.goals
                .filter((g) => g !== r.goal)
                .map((g) => (
                  <a href={`?goal=${encodeURIComponent(g)}`}>{g} </a>
                ))}
              )
            </span>
          ) : null}
          . Overall winner: <b>{r.winner ?? 'none'}</b> (
          {arms.map((a) => `${a} ${pct(r.overall[a]?.rate ?? null, 2)}`).join(', ')}). p-values are adjusted with
          Benjamini–Hochberg across all the segments listed, existing and proposed (false discovery rate {r.alpha}).
        </p>
        <p class="muted" data-testid="proposed-info">
          Existing segments are counted at exposure. Proposed segments
          {r.proposed.discoveredAt === null
            ? ''
            : ` (the clusters of the discovery of ${r.proposed.discoveredAt.slice(0, 16).replace('T', ' ')} UTC)`}{' '}
          are estimated on the daily sample: {r.proposed.sampleRows} sampled visitors exposed to this test in the last{' '}
          {r.proposed.days} days. Such estimates are noisier and understate rates (a visitor sampled before converting counts as
          not converted); publish a segment to have it counted at exposure. {r.proposed.note ?? ''}
        </p>
        <section class="card">
          <h2>Opportunities ({r.opportunities.length})</h2>
          {r.opportunities.length === 0 ? (
            <p class="muted">No segment's best arm beats the overall winner after the correction.</p>
          ) : (
            <table>
              <tbody>
                {r.opportunities.map((o) => (
                  <tr data-testid={`opportunity-${o.segment}`}>
                    <td>
                      Serve <b>{o.arm}</b> to <b>{o.segment}</b>
                      {o.basis === 'sample'
                        ? ` (proposed; estimated on ${o.n ?? 0} sampled visitors: confirm by publishing the segment)`
                        : ''}
                    </td>
                    <td>
                      +{o.gainPer1000.toFixed(1)} conversions per 1,000 visitors (95%: {o.gainPer1000Ci95[0].toFixed(1)} to{' '}
                      {o.gainPer1000Ci95[1].toFixed(1)})
                    </td>
                    <td class="mono">{JSON.stringify(o.rule)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <WhenForm when={when} />
        <section class="card">
          <h2>Results per segment</h2>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>segment</th>
                  <th>visitors</th>
                  {arms.map((a) => (
                    <th>{a}</th>
                  ))}
                  <th>best</th>
                  <th>lift (95%)</th>
                  <th>p</th>
                  <th>p (BH)</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {r.segments.map((s) => (
                  <SegmentRow s={s} arms={arms} winner={r.winner} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </main>
    </Layout>
  )
}
