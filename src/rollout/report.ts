// RolloutResult → what people see: step outputs, annotations and the job summary. Rendering is
// pure; writeReport is the one place that hands it to the runner.
import { errorMessage } from '../errors.js'
import type { ConnectionCounts, Log } from '../ports.js'
import type { BakeReport } from './bake.js'
import { renderPlanSummary, type DryRunPlan } from './dry-run.js'
import type { RolloutResult, RolloutStatus } from './batches.js'
import { needsAttention, type HostReport } from './host-report.js'
import { renderFound } from './found-report.js'
import { renderGantt } from './gantt.js'
import { escapeHtml, markdownTable, tableCell } from './markdown.js'

export { renderGantt }
import type { StepName } from './host-steps.js'

export interface Outputs {
  readonly result: string
  readonly 'succeeded-hosts': string
  readonly 'failed-hosts': string
  readonly 'skipped-hosts': string
  readonly report: string
  readonly 'duration-ms': string
  /** Release mode: the release every host went to. */
  readonly release?: string
  readonly bakes: string
}

const entries = (hosts: readonly HostReport[], keep: (host: HostReport) => boolean) =>
  JSON.stringify(hosts.filter(keep).map((host) => host.target.entry))

export function renderOutputs(result: RolloutResult): Outputs {
  const report = result.hosts.map((host) => ({
    host: host.target.entry,
    batch: host.batch,
    result: host.outcome,
    rotation: host.rotation,
    failedStep: host.failedStep ?? null,
    error: host.error ?? null,
    durationMs: host.durationMs,
    stepsMs: Object.fromEntries(host.timeline.map((step) => [step.name, step.durationMs])),
    ...(host.release ? { fromRelease: host.release.from ?? null, toRelease: host.release.to } : {})
  }))
  return {
    result: result.status,
    // On the new release and in rotation, whether this run cycled them or found them there.
    'succeeded-hosts': entries(result.hosts, (host) => host.outcome === 'succeeded' || host.outcome === 'unchanged'),
    // Anything touched that did not end on the new release needs a look: failed, rolled back, cancelled.
    'failed-hosts': entries(result.hosts, needsAttention),
    'skipped-hosts': entries(result.hosts, (host) => host.outcome === 'skipped'),
    report: JSON.stringify(report),
    'duration-ms': String(result.durationMs),
    ...(result.release !== undefined ? { release: result.release } : {}),
    bakes: JSON.stringify(
      result.bakes.map(({ batch, durationMs, verdict, measurements }) => ({ batch, durationMs, verdict, measurements }))
    )
  }
}

const HEADINGS = { success: '✅ Rollout succeeded', failure: '❌ Rollout failed', cancelled: '⚠️ Rollout cancelled' }
const OUTCOME_LABEL: Record<HostReport['outcome'], string> = {
  succeeded: '✅ succeeded',
  unchanged: '✅ unchanged',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  cancelled: '⚠️ cancelled',
  skipped: '⏭️ skipped'
}
const ROTATION_LABEL: Record<HostReport['rotation'], string> = { in: 'in', out: '**out**', unknown: 'unknown' }

function stepCell(host: HostReport, name: StepName): string {
  const step = host.timeline.find((p) => p.name === name)
  if (!step) return ''
  return step.ok ? `${step.durationMs}` : `❌ ${step.durationMs}`
}

export function renderSummary(result: RolloutResult): string {
  const counts = (['succeeded', 'unchanged', 'failed', 'rolled-back', 'cancelled', 'skipped'] as const)
    .map((outcome) => [outcome, result.hosts.filter((host) => host.outcome === outcome).length] as const)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${n} ${outcome}`)
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
  const lines = [
    `## ${HEADINGS[result.status]}`,
    '',
    `${result.hosts.length} host(s) in ${result.batches} batch(es), ${result.durationMs} ms: ${counts.join(', ')}.` +
      (result.stoppedBecause ? ` Stopped early: ${escapeHtml(result.stoppedBecause)}.` : ''),
    '',
    ...markdownTable(head, rows),
    '',
    ...renderFound(result.hosts, escapeHtml)
  ]
  for (const host of result.hosts.filter(needsAttention)) {
    lines.push(
      `<details><summary>${escapeHtml(host.target.entry)}: ${escapeHtml(host.failedStep ?? '')} ${escapeHtml(host.error ?? '')}</summary>`,
      '',
      `<pre>${escapeHtml(host.outputTail.join('\n') || '(no output)')}</pre>`,
      '</details>',
      ''
    )
  }
  lines.push(...renderBakes(result.bakes), renderGantt(result))
  return `${lines.join('\n')}\n`
}

const VERDICT_LABEL: Record<BakeReport['verdict'], string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  cancelled: '⚠️ cancelled'
}

/** Each bake with its measurements: when, the exit code, the analysis's last line. */
function renderBakes(bakes: readonly BakeReport[]): string[] {
  return bakes.flatMap((bake) => [
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
  ])
}

export interface ReportWriter {
  setOutput(name: string, value: string): void
  writeSummary(markdown: string): Promise<void>
}

/** How a run ended: with a rollout, with a dry run's plan, or before either (preflight failed). */
export interface RunOutcome {
  readonly status: RolloutStatus
  readonly rollout?: RolloutResult
  readonly plan?: DryRunPlan
  /** Why the run ended before any rollout. */
  readonly error?: string
  /** The run's SSH connections, where they were counted. */
  readonly connections?: ConnectionCounts
}

/**
 * The one place a run's outcome reaches the runner: the `result` output always; for a rollout
 * also its other outputs, an annotation per host that needs a look, and the job summary.
 */
export async function writeReport(
  { status, rollout, plan, connections }: RunOutcome,
  writer: ReportWriter,
  log: Log
): Promise<void> {
  if (connections) writer.setOutput('connections', JSON.stringify(connections))
  if (!rollout) {
    writer.setOutput('result', status)
    return plan && writeSummary(writer, renderPlanSummary(plan), log)
  }
  for (const [name, value] of Object.entries(renderOutputs(rollout))) writer.setOutput(name, value)
  for (const host of rollout.hosts.filter(needsAttention)) {
    const rotation =
      host.rotation === 'in'
        ? 'it is back in rotation'
        : host.rotation === 'out'
          ? 'it was left out of rotation'
          : 'its rotation state is unknown'
    const message = `${host.target.entry} ${host.outcome} at ${host.failedStep}: ${host.error}; ${rotation}`
    log.error(message, `Rollout ${host.outcome}: ${host.target.entry} (${host.failedStep})`)
  }
  if (status === 'success')
    log.notice(`${rollout.hosts.length} host(s) rolled out in ${rollout.durationMs} ms`, 'Rollout succeeded')
  await writeSummary(writer, renderSummary(rollout), log)
}

/**
 * Not every runner has job summaries (Gitea, Forgejo, @github/local-action, a terminal): the
 * step's result is the run's all the same.
 */
function writeSummary(writer: ReportWriter, markdown: string, log: Log): Promise<void> {
  return writer.writeSummary(markdown).catch((error: unknown) => {
    log.warning(`The job summary was not written: ${errorMessage(error)}`, 'No job summary')
  })
}

/** Why the step fails, for its final error; undefined when it succeeds. */
export function failureMessage({ status, rollout, error }: RunOutcome): string | undefined {
  if (status === 'success') return undefined
  if (error !== undefined) return error
  if (status === 'cancelled' || !rollout) return 'Rollout cancelled'
  const failed = rollout.hosts.filter(needsAttention).map((host) => host.target.entry)
  const because = rollout.stoppedBecause ? `stopped because ${rollout.stoppedBecause}` : ''
  // A capacity floor or an analysis can fail a rollout in which no host failed.
  if (failed.length === 0) return `Rollout failed: ${because}`
  return `Rollout failed on ${failed.join(', ')}${because ? `; ${because}` : ''}`
}
