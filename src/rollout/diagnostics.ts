// A failed host's evidence (evidence.ts) as people read it: collapsed under the host in the job
// summary, every text HTML-escaped, and as the `diagnostics` field of its entry in the report output.
import { diagnosisHeading } from './diagnose.js'
import type { HostReport } from './host-report.js'
import { escapeHtml } from './markdown.js'

/** Text shown as it came (a <pre> block), escaped; `empty` when there is none. */
const preformatted = (text: string, empty: string) => `<pre>${escapeHtml(text || empty)}</pre>`

/** A host that needs a look: why, the failed step's last output, its last health answer, diagnose-command's output. */
export function renderHostDetails(host: HostReport): string[] {
  const { lastHealth, diagnosis, failedStep } = host
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

/** The report output's `diagnostics` for a host with any evidence to show (one that needs a look). */
export function diagnosticsReport(host: HostReport, needsLook: boolean): { diagnostics?: object } {
  if (!needsLook) return {}
  const { outputTail, lastHealth, diagnosis } = host
  return {
    diagnostics: {
      outputTail,
      lastHealth: lastHealth ?? null,
      diagnose: diagnosis
        ? {
            problem: diagnosis.problem ?? null,
            durationMs: diagnosis.durationMs,
            output: diagnosis.output,
            droppedBytes: diagnosis.droppedBytes
          }
        : null
    }
  }
}
