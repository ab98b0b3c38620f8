// RolloutResult → what people see: step outputs, annotations and the job summary. Rendering is
// pure; writeReport is the one place that hands it to the runner.
import { errorMessage } from '../errors.js'
import type { ConnectionCounts, Log } from '../ports.js'
import { renderPlanSummary, type DryRunPlan } from './dry-run.js'
import type { RolloutResult, RolloutStatus } from './batches.js'
import { needsAttention, type HostReport } from './host-report.js'
import { renderGantt } from './gantt.js'
import { renderMigrationOnly, renderSummary } from './summary.js'
import { diagnosticsReport } from './diagnostics.js'
import { migrationJson, migrationOfHosts, type MigrationReport } from './migrate-report.js'

export { renderGantt, renderSummary }

export interface Outputs {
  readonly result: string
  readonly 'succeeded-hosts': string
  readonly 'failed-hosts': string
  readonly 'skipped-hosts': string
  readonly report: string
  /** The JSON file with every host's entry (empty if it could not be written). */
  readonly 'report-file': string
  readonly 'duration-ms': string
  /** Release mode: the release every host went to. */
  readonly release?: string
  readonly bakes: string
}

const entries = (hosts: readonly HostReport[], keep: (host: HostReport) => boolean) =>
  JSON.stringify(hosts.filter(keep).map((host) => host.target.entry))

/**
 * The `report` output's size bound, in UTF-16 code units as GitHub counts outputs: a job's outputs
 * may total 1 MB, so the report takes at most half (about 2,000 hosts' entries); past it the output
 * keeps the hosts that need a look first, and report-file has every host.
 */
export const REPORT_OUTPUT_LIMIT = 256 * 1024

/** The per-host report, one entry per host in `hosts` order: report-file's content. */
export function fullReport(result: RolloutResult, migration?: MigrationReport): string {
  return JSON.stringify(result.hosts.map((host) => reportEntry(host, migration, false)))
}

/** A host's entry; `compact` (the `report` output) cuts its diagnostics, report-file has them whole. */
function reportEntry(host: HostReport, migration: MigrationReport | undefined, compact: boolean) {
  return {
    host: host.target.entry,
    batch: host.batch,
    result: host.outcome,
    rotation: host.rotation,
    failedStep: host.failedStep ?? null,
    error: host.error ?? null,
    durationMs: host.durationMs,
    stepsMs: Object.fromEntries(host.timeline.map((step) => [step.name, step.durationMs])),
    ...(host.release ? { fromRelease: host.release.from ?? null, toRelease: host.release.to } : {}),
    ...(migration?.host === host.target.entry ? { migration: migrationJson(migration) } : {}),
    ...diagnosticsReport(host, needsAttention(host), compact)
  }
}

/** The report within REPORT_OUTPUT_LIMIT: every host if it fits, else those that need a look first, in `hosts` order. */
function reportWithinLimit(hosts: readonly HostReport[], migration?: MigrationReport): string {
  const entries = hosts.map((host) => JSON.stringify(reportEntry(host, migration, true)))
  if (entries.reduce((sum, entry) => sum + entry.length + 1, 1) <= REPORT_OUTPUT_LIMIT) return `[${entries.join(',')}]`
  const first = [...hosts.keys()].sort((a, b) => Number(needsAttention(hosts[b])) - Number(needsAttention(hosts[a])))
  const kept = new Set<number>()
  let size = 1
  for (const i of first) {
    if (size + entries[i].length + 1 > REPORT_OUTPUT_LIMIT) break
    kept.add(i)
    size += entries[i].length + 1
  }
  return `[${entries.filter((_, i) => kept.has(i)).join(',')}]`
}

export function renderOutputs(result: RolloutResult, reportFile = '', migration?: MigrationReport): Outputs {
  return {
    result: result.status,
    // On the new release and in rotation, whether this run cycled them or found them there.
    'succeeded-hosts': entries(result.hosts, (host) => host.outcome === 'succeeded' || host.outcome === 'unchanged'),
    // Anything touched that did not end on the new release needs a look: failed, rolled back, cancelled.
    'failed-hosts': entries(result.hosts, needsAttention),
    'skipped-hosts': entries(result.hosts, (host) => host.outcome === 'skipped'),
    report: reportWithinLimit(result.hosts, migration),
    'report-file': reportFile,
    'duration-ms': String(result.durationMs),
    ...(result.release !== undefined ? { release: result.release } : {}),
    bakes: JSON.stringify(
      result.bakes.map(({ batch, durationMs, verdict, measurements }) => ({ batch, durationMs, verdict, measurements }))
    )
  }
}

export interface ReportWriter {
  setOutput(name: string, value: string): void
  writeSummary(markdown: string): Promise<void>
  /** Writes the full report where the workflow can upload it; its path. */
  saveReport(json: string): Promise<string>
}

/** How a run ended: with a rollout, with a dry run's plan, or before either (preflight failed). */
export interface RunOutcome {
  readonly status: RolloutStatus
  readonly rollout?: RolloutResult
  readonly plan?: DryRunPlan
  /** Why the run ended before any rollout. */
  readonly error?: string
  /** Release mode's migrate-command, run before the rollout (without release-dir it is a host's step). */
  readonly migration?: MigrationReport
  /** The run's SSH connections, where they were counted. */
  readonly connections?: ConnectionCounts
}

/**
 * The one place a run's outcome reaches the runner: the `result` output always; for a rollout
 * also its other outputs, an annotation per host that needs a look, and the job summary.
 */
export async function writeReport(
  { status, rollout, plan, migration: before, connections }: RunOutcome,
  writer: ReportWriter,
  log: Log
): Promise<void> {
  const migration = before ?? (rollout && migrationOfHosts(rollout.hosts))
  if (connections) writer.setOutput('connections', JSON.stringify(connections))
  if (!rollout) {
    writer.setOutput('result', status)
    // A failed or cancelled migration ends the run before any host switched: its row is the summary.
    if (migration) {
      writer.setOutput('report', JSON.stringify([{ host: migration.host, migration: migrationJson(migration) }]))
      return writeSummary(writer, renderMigrationOnly(status, migration), log)
    }
    if (!plan) return
    // A dry run's report-file: what preflight found on each host, which its summary groups past 50.
    writer.setOutput('report-file', await saveReport(writer, JSON.stringify(plan.hosts), log))
    return writeSummary(writer, renderPlanSummary(plan), log)
  }
  const full = fullReport(rollout, migration)
  const reportFile = await saveReport(writer, full, log)
  const outputs = renderOutputs(rollout, reportFile, migration)
  for (const [name, value] of Object.entries(outputs)) writer.setOutput(name, value)
  const kept = (JSON.parse(outputs.report) as unknown[]).length
  if (kept < rollout.hosts.length)
    log.warning(
      `The report output holds ${kept} of ${rollout.hosts.length} hosts ` +
        `(those that need a look first) to stay within GitHub's output limits; ` +
        (reportFile ? `every host is in report-file (${reportFile})` : 'and report-file could not be written'),
      'Report output shortened'
    )
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
  await writeSummary(writer, renderSummary(rollout, migration), log)
}

/** The report file's path, or empty when it could not be written (a warning says why). */
function saveReport(writer: ReportWriter, json: string, log: Log): Promise<string> {
  return writer.saveReport(json).catch((error: unknown) => {
    log.warning(`The report file was not written: ${errorMessage(error)}`, 'No report file')
    return ''
  })
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
