// The summary's timeline: each host's steps and each bake as a Mermaid gantt chart (ms from the
// rollout's start), which GitHub draws in the job summary. Past HOST_TABLE_LIMIT hosts a section
// per batch (or range of batches): GitHub's Mermaid refuses a diagram over 50,000 characters.
import type { RolloutResult } from './batches.js'
import { BATCH_ROW_LIMIT, batchRanges, HOST_TABLE_LIMIT, rangeLabel } from './summary-limits.js'

/** Mermaid forbids `:`, `#` and `;` in names; host entries like [::1]:22 keep their meaning with `.`. */
const mermaidName = (text: string) => text.replace(/[:#;]/g, '.')

// A task of 0 ms would not be drawn: at least 1.
const task = (name: string, tag: string, startMs: number, durationMs: number) =>
  `  ${name} :${tag}${startMs}, ${startMs + Math.max(durationMs, 1)}`

export function renderGantt(result: RolloutResult): string {
  const lines = [
    '```mermaid',
    'gantt',
    '  title Rollout timeline (ms from start)',
    '  dateFormat x',
    '  axisFormat %M:%S',
    ...(result.hosts.length > HOST_TABLE_LIMIT ? batchSections(result) : hostSections(result))
  ]
  if (result.bakes.length > 0) lines.push('  section bakes')
  // Past BATCH_ROW_LIMIT bakes, the ones that did not pass first: they are what the chart is read for.
  const bakes = [
    ...result.bakes.filter((b) => b.verdict !== 'passed'),
    ...result.bakes.filter((b) => b.verdict === 'passed')
  ]
  for (const bake of bakes.slice(0, BATCH_ROW_LIMIT)) {
    lines.push(
      task(`batch-${bake.batch}`, bake.verdict === 'passed' ? 'active, ' : 'crit, ', bake.startMs, bake.durationMs)
    )
  }
  lines.push('```')
  return lines.join('\n')
}

function hostSections(result: RolloutResult): string[] {
  return result.hosts
    .filter((h) => h.timeline.length > 0)
    .flatMap((host) => [
      `  section ${mermaidName(host.target.entry)}`,
      ...host.timeline.map((step) => task(step.name, step.ok ? '' : 'crit, ', step.startMs, step.durationMs))
    ])
}

/** A section per batch (or range): one task from its first step to its last, red if a host failed. */
function batchSections(result: RolloutResult): string[] {
  return batchRanges(result.batches).flatMap(([from, to]) => {
    const steps = result.hosts.filter((h) => h.batch >= from && h.batch <= to).flatMap((h) => h.timeline)
    if (steps.length === 0) return []
    const start = Math.min(...steps.map((step) => step.startMs))
    const end = Math.max(...steps.map((step) => step.startMs + step.durationMs))
    const failed = steps.some((step) => !step.ok)
    return [`  section batch ${rangeLabel(from, to)}`, task('hosts', failed ? 'crit, ' : '', start, end - start)]
  })
}
