// The rollout's job summary. It must read the same and stay far under GitHub's 1 MiB step-summary
// limit at 5 hosts and at 2,000: failures first with their detail, hosts that went the same way
// grouped, one row per host only up to HOST_TABLE_LIMIT (then one row per batch), and every list
// capped. The full per-host report is the `report` output and report-file, never the summary.
import type { RolloutResult } from './batches.js'
import type { BakeReport } from './bake.js'
import { needsAttention, type HostOutcome, type HostReport } from './host-report.js'
import { renderFound } from './found-report.js'
import { renderGantt } from './gantt.js'
import { batchRanges, COLLAPSED_NAMES_LIMIT, HOST_TABLE_LIMIT, namesList, rangeLabel } from './summary-limits.js'
import { escapeHtml, markdownTable, tableCell } from './markdown.js'
import { renderHostDetails } from './diagnostics.js'
import { renderMigration, type MigrationReport } from './migrate-report.js'
import type { RolloutStatus } from './batches.js'
import type { StepName } from './host-steps.js'

/** Failed hosts shown with their output; the others that failed the same way are listed by name. */
export const FAILED_DETAIL_LIMIT = 20
/** Each text of a failed host's evidence in the summary (its output, diagnose-command's): the `report` output has them whole. */
const DETAIL_CHARS = 8000
/** Bakes past this many are counted, except the ones that did not pass (a rollout stops at the first). */
const BAKE_DETAIL_LIMIT = 3

const HEADINGS = { success: '✅ Rollout succeeded', failure: '❌ Rollout failed', cancelled: '⚠️ Rollout cancelled' }
const OUTCOMES = ['failed', 'rolled-back', 'cancelled', 'succeeded', 'unchanged', 'skipped'] as const
const OUTCOME_LABEL: Record<HostOutcome, string> = {
  succeeded: '✅ succeeded',
  unchanged: '✅ unchanged',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  cancelled: '⚠️ cancelled',
  skipped: '⏭️ skipped'
}
const ROTATION_LABEL: Record<HostReport['rotation'], string> = { in: 'in', out: '**out**', unknown: 'unknown' }

export function renderSummary(result: RolloutResult, migration?: MigrationReport): string {
  const counts = OUTCOMES.map((outcome) => [outcome, result.hosts.filter((h) => h.outcome === outcome).length] as const)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`)
  const many = result.hosts.length > HOST_TABLE_LIMIT
  const lines = [
    `## ${HEADINGS[result.status]}`,
    '',
    `${result.hosts.length} host(s) in ${result.batches} batch(es), ${result.durationMs} ms: ${counts.join(', ')}.` +
      (result.stoppedBecause ? ` Stopped early: ${escapeHtml(result.stoppedBecause)}.` : ''),
    '',
    ...renderMigration(migration),
    ...renderNeedsAttention(result.hosts.filter(needsAttention)),
    ...(many ? [...renderGroups(result.hosts), ...renderBatchOverview(result)] : renderHostTable(result)),
    ...renderFound(result.hosts, escapeHtml),
    ...renderBakes(result.bakes),
    renderGantt(result)
  ]
  if (many)
    lines.push('', 'Every host, one by one: the `report` output, and the JSON file at the `report-file` output.')
  return `${lines.join('\n')}\n`
}

/**
 * Failures first: the hosts that need a look, grouped by how they went (outcome, step, error), the
 * first FAILED_DETAIL_LIMIT of them each with its output. Anything else a failed host should show
 * (a diagnosis) belongs in diagnostics.ts's renderHostDetails.
 */
function renderNeedsAttention(hosts: readonly HostReport[]): string[] {
  if (hosts.length === 0) return []
  const ways = groupBy(hosts, (h) => `${OUTCOME_LABEL[h.outcome]} at ${h.failedStep ?? '?'}: ${h.error ?? ''}`)
  return [
    `### Needs a look: ${hosts.length} host(s)`,
    '',
    // One host's way is its detail block's title already.
    ...(hosts.length > 1
      ? [
          ...[...ways].map(
            ([way, group]) => `- ${group.length} host(s) ${escapeHtml(way)}: ${namesList(entries(group))}`
          ),
          ''
        ]
      : []),
    ...hosts.slice(0, FAILED_DETAIL_LIMIT).flatMap((host) => renderHostDetails(host, DETAIL_CHARS)),
    ...(hosts.length > FAILED_DETAIL_LIMIT
      ? [`The output of the other ${hosts.length - FAILED_DETAIL_LIMIT} is in the log, in its batch's group.`, '']
      : [])
  ]
}

/** A failed or cancelled migration ends the run before any host switched: its row is the summary. */
export function renderMigrationOnly(status: RolloutStatus, migration: MigrationReport): string {
  return [`## ${HEADINGS[status]}`, '', ...renderMigration(migration)].join('\n')
}

/** Past HOST_TABLE_LIMIT: the other hosts by outcome, each list collapsed ("447 host(s) succeeded"). */
function renderGroups(hosts: readonly HostReport[]): string[] {
  const groups = groupBy(
    hosts.filter((h) => !needsAttention(h)),
    (h) => h.outcome
  )
  return [
    '### Hosts',
    '',
    ...OUTCOMES.flatMap((outcome) => {
      const group = groups.get(outcome)
      if (!group) return []
      const names = namesList(entries(group), COLLAPSED_NAMES_LIMIT)
      return [
        `<details><summary>${OUTCOME_LABEL[outcome]}: ${group.length} host(s)</summary>`,
        '',
        names,
        '</details>',
        ''
      ]
    })
  ]
}

/** Past HOST_TABLE_LIMIT: a row per batch (per range of batches past BATCH_ROW_LIMIT). */
function renderBatchOverview(result: RolloutResult): string[] {
  const rows = batchRanges(result.batches).map(([from, to]) => {
    const hosts = result.hosts.filter((h) => h.batch >= from && h.batch <= to)
    const ran = hosts.filter((h) => h.timeline.length > 0)
    const start = Math.min(...ran.map((h) => h.timeline[0].startMs))
    const end = Math.max(...ran.map((h) => h.timeline[0].startMs + h.durationMs))
    const outcomes = OUTCOMES.flatMap((outcome) => {
      const n = hosts.filter((h) => h.outcome === outcome).length
      return n > 0 ? [`${n} ${OUTCOME_LABEL[outcome]}`] : []
    })
    const slowest = ran.reduce<HostReport | undefined>((a, h) => (a && a.durationMs >= h.durationMs ? a : h), undefined)
    return [
      rangeLabel(from, to),
      String(hosts.length),
      outcomes.join(', '),
      String(hosts.filter((h) => h.rotation !== 'in').length),
      ran.length > 0 ? `${start}` : '',
      ran.length > 0 ? `${end - start}` : '',
      slowest ? `${tableCell(slowest.target.entry)} (${slowest.durationMs})` : ''
    ]
  })
  const head = ['Batch', 'Hosts', 'Results', 'Not in rotation', 'Started (ms)', 'Took (ms)', 'Slowest host (ms)']
  return ['### Batches', '', ...markdownTable(head, rows), '']
}

function stepCell(host: HostReport, name: StepName): string {
  const step = host.timeline.find((p) => p.name === name)
  if (!step) return ''
  return step.ok ? `${step.durationMs}` : `❌ ${step.durationMs}`
}

/** Up to HOST_TABLE_LIMIT hosts: a row per host with each step's time. */
function renderHostTable(result: RolloutResult): string[] {
  const columns = result.steps.filter((name) => result.hosts.some((host) => host.timeline.some((p) => p.name === name)))
  const releases = result.hosts.some((host) => host.release)
  const head = [
    'Host',
    'Batch',
    'Result',
    'In rotation',
    ...(releases ? ['Release'] : []),
    ...columns.map((name) => `${name} (ms)`),
    'Total (ms)'
  ]
  const rows = result.hosts.map((host) => [
    escapeHtml(host.target.entry),
    String(host.batch),
    OUTCOME_LABEL[host.outcome],
    ROTATION_LABEL[host.rotation],
    ...(releases ? [escapeHtml(host.release ? `${host.release.from ?? '(none)'} → ${host.release.to}` : '')] : []),
    ...columns.map((name) => stepCell(host, name)),
    String(host.durationMs)
  ])
  return [...markdownTable(head, rows), '']
}

const VERDICT_LABEL: Record<BakeReport['verdict'], string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  cancelled: '⚠️ cancelled'
}

/** Each bake with its measurements; past BAKE_DETAIL_LIMIT bakes, the passed ones counted. */
function renderBakes(bakes: readonly BakeReport[]): string[] {
  if (bakes.length <= BAKE_DETAIL_LIMIT) return bakes.flatMap(renderBake)
  const passed = bakes.filter((bake) => bake.verdict === 'passed')
  const took = passed.map((bake) => bake.durationMs)
  return [
    `**Bakes**: ${passed.length} of ${bakes.length} passed` +
      (passed.length > 0 ? ` (${Math.min(...took)} to ${Math.max(...took)} ms each)` : '') +
      "; each one's measurements are in the log, in its group.",
    '',
    ...bakes.filter((bake) => bake.verdict !== 'passed').flatMap(renderBake)
  ]
}

function renderBake(bake: BakeReport): string[] {
  return [
    `**Bake after batch ${bake.batch}**: ${bake.durationMs} ms, ${VERDICT_LABEL[bake.verdict]}` +
      (bake.measurements.length === 0 ? ' (no analysis-command)' : ''),
    '',
    ...(bake.measurements.length > 0
      ? [
          ...markdownTable(
            ['At (ms)', 'Exit code', 'Last line'],
            bake.measurements.map((m) => [
              String(m.atMs),
              m.code === 0 ? '0' : `❌ ${m.code ?? 'none'}`,
              tableCell(m.lastLine)
            ])
          ),
          ''
        ]
      : [])
  ]
}

const entries = (hosts: readonly HostReport[]) => hosts.map((host) => host.target.entry)

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>()
  for (const item of items) {
    const group = groups.get(key(item))
    if (group) group.push(item)
    else groups.set(key(item), [item])
  }
  return groups
}
