// The run-once step as people see it: one row of its own in the job summary (where, how it ended,
// its time, its last lines) and its entry in the `report` output, in either mode.
import type { HostReport } from './host-report.js'
import { escapeHtml, markdownTable, tableCell } from './markdown.js'

export interface MigrationReport {
  /** The host it ran on (skipped: where it passed before). */
  readonly host: string
  readonly result: 'passed' | 'failed' | 'cancelled' | 'skipped'
  readonly durationMs: number
  /** Its last lines of output. */
  readonly outputTail: readonly string[]
  readonly error?: string
  /** skipped: when, and by which run, it passed. */
  readonly passed?: { readonly host: string; readonly at: string; readonly run: string }
}

/** Without release-dir it is the migrate host's `migrate` step: read back from that host's report. */
export function migrationOfHosts(hosts: readonly HostReport[]): MigrationReport | undefined {
  for (const host of hosts) {
    const step = host.timeline.find((record) => record.name === 'migrate')
    if (!step) continue
    const failed = host.failedStep === 'migrate'
    return {
      host: host.target.entry,
      result: step.ok ? 'passed' : host.outcome === 'cancelled' ? 'cancelled' : 'failed',
      durationMs: step.durationMs,
      // The host's tail ends with the migration's lines when it failed there; after a pass, later steps' follow.
      outputTail: failed ? host.outputTail.slice(-10) : [],
      error: failed ? host.error : undefined
    }
  }
  return undefined
}

/** Its entry in the `report` output. */
export function migrationJson(migration: MigrationReport) {
  const { result, durationMs, outputTail, error, passed } = migration
  return { result, durationMs, outputTail, error: error ?? null, ...(passed ? { passedBefore: passed } : {}) }
}

const LABEL: Record<MigrationReport['result'], string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  cancelled: '⚠️ cancelled',
  skipped: '⏭️ skipped'
}

/** Its row in the job summary, and its last lines. */
export function renderMigration(migration: MigrationReport | undefined): string[] {
  if (!migration) return []
  const { host, result, durationMs, outputTail, error, passed } = migration
  const note = passed ? `passed on ${passed.host} at ${passed.at} (run ${passed.run})` : (error ?? '')
  return [
    ...markdownTable(
      ['Migration', 'Host', 'Result', 'Time (ms)', 'Note'],
      [['migrate-command', tableCell(host), LABEL[result], String(durationMs), tableCell(note)]]
    ),
    '',
    ...(outputTail.length > 0
      ? [
          `<details><summary>migrate-command: last ${outputTail.length} line(s)</summary>`,
          '',
          `<pre>${escapeHtml(outputTail.join('\n'))}</pre>`,
          '</details>',
          ''
        ]
      : [])
  ]
}
