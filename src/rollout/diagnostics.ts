// A failed host's evidence (evidence.ts) as people read it: collapsed under the host in the job
// summary, every text HTML-escaped, and as the `diagnostics` field of its entry in the report output.
import { diagnosisHeading } from './diagnose.js'
import type { HostReport } from './host-report.js'
import { escapeHtml } from './markdown.js'

/** The last `limit` characters of `text`, from a line's start, marked as cut: the rest is in the report. */
function lastChars(text: string, limit: number): string {
  return text.length > limit ? `…\n${text.slice(-limit).replace(/^[^\n]*\n/, '')}` : text
}

/**
 * A host that needs a look: why, the failed step's last output, its last health answer, and
 * diagnose-command's output, each cut to its last `limit` characters so that twenty failed hosts
 * stay far under the summary's 1 MiB (the report output keeps the whole diagnosis).
 */
export function renderHostDetails(host: HostReport, limit = Infinity): string[] {
  const { lastHealth, diagnosis, failedStep } = host
  /** Text shown as it came (a <pre> block), escaped; `empty` when there is none. */
  const preformatted = (text: string, empty: string) => `<pre>${escapeHtml(lastChars(text, limit) || empty)}</pre>`
  const lines = [
    `<details><summary>${escapeHtml(host.target.entry)}: ${escapeHtml(failedStep ?? '')} ${escapeHtml(host.error ?? '')}</summary>`,
    ''
  ]
  // A health check that printed nothing has its answer to show instead.
  if (host.outputTail.length > 0 || (!lastHealth && !diagnosis))
    lines.push(
      failedStep ? `Last output of \`${failedStep}\`:` : 'Last output:',
      '',
      preformatted(host.outputTail.join('\n'), '(no output)'),
      ''
    )
  if (lastHealth)
    lines.push(
      `Last health response: ${escapeHtml(lastHealth.answer)}`,
      '',
      preformatted(lastHealth.lines.join('\n'), '(empty body)'),
      ''
    )
  if (diagnosis)
    lines.push(`${escapeHtml(diagnosisHeading(diagnosis))}:`, '', preformatted(diagnosis.output, '(no output)'), '')
  lines.push('</details>', '')
  return lines
}

/** What the `report` output keeps of each host's evidence; report-file keeps it whole. */
const COMPACT = { outputLines: 5, diagnoseChars: 2000 }

/**
 * A host's `diagnostics` (one that needs a look), whole for report-file or `compact` for the
 * `report` output, which must hold every host of a 500-host rollout within GitHub's output limits.
 */
export function diagnosticsReport(host: HostReport, needsLook: boolean, compact = false): { diagnostics?: object } {
  if (!needsLook) return {}
  const { lastHealth, diagnosis } = host
  const outputTail = compact ? host.outputTail.slice(-COMPACT.outputLines) : host.outputTail
  return {
    diagnostics: {
      outputTail,
      lastHealth: lastHealth ?? null,
      diagnose: diagnosis
        ? {
            problem: diagnosis.problem ?? null,
            durationMs: diagnosis.durationMs,
            output: compact ? lastChars(diagnosis.output, COMPACT.diagnoseChars) : diagnosis.output,
            droppedBytes: diagnosis.droppedBytes
          }
        : null
    }
  }
}
