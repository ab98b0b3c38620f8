// The summary's timeline: each host's steps and each bake as a Mermaid gantt chart (ms from the
// rollout's start), which GitHub draws in the job summary.
import type { RolloutResult } from './batches.js'

/** Mermaid forbids `:`, `#` and `;` in names; host entries like [::1]:22 keep their meaning with `.`. */
const mermaidName = (text: string) => text.replace(/[:#;]/g, '.')

export function renderGantt(result: RolloutResult): string {
  const lines = [
    '```mermaid',
    'gantt',
    '  title Rollout timeline (ms from start)',
    '  dateFormat x',
    '  axisFormat %M:%S'
  ]
  // A task of 0 ms would not be drawn: at least 1.
  const task = (name: string, tag: string, startMs: number, durationMs: number) =>
    `  ${name} :${tag}${startMs}, ${startMs + Math.max(durationMs, 1)}`
  for (const host of result.hosts.filter((h) => h.timeline.length > 0)) {
    lines.push(`  section ${mermaidName(host.target.entry)}`)
    for (const step of host.timeline)
      lines.push(task(step.name, step.ok ? '' : 'crit, ', step.startMs, step.durationMs))
  }
  if (result.bakes.length > 0) lines.push('  section bakes')
  for (const bake of result.bakes) {
    lines.push(
      task(`batch-${bake.batch}`, bake.verdict === 'passed' ? 'active, ' : 'crit, ', bake.startMs, bake.durationMs)
    )
  }
  lines.push('```')
  return lines.join('\n')
}
