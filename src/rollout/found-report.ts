// The summary's word on how the run found the hosts: each one a dead run left mid-cycle, and each
// one already out of rotation before the run, so that what this run did to them reads right.
import type { HostReport } from './host-report.js'
import { describeLeft } from './journal.js'

const FOUND_LINES = 20

/** Markdown lines (empty when every host was found in rotation and no run left one mid-cycle). */
export function renderFound(hosts: readonly HostReport[], escape: (text: string) => string): string[] {
  const lines = hosts.flatMap(({ target, found }) => {
    if (found?.left) return [`- ${escape(target.entry)}: ${escape(describeLeft(found.left))}`]
    if (found?.rotation === 'out') return [`- ${escape(target.entry)}: out of rotation before this run`]
    return []
  })
  if (lines.length === 0) return []
  // Every host found out of rotation on a big fleet would be a line each: the first FOUND_LINES, then a count.
  const more = lines.length > FOUND_LINES ? [`- and ${lines.length - FOUND_LINES} more (each in the log)`] : []
  return ['**Found before this run**', '', ...lines.slice(0, FOUND_LINES), ...more, '']
}
