// The summary's word on how the run found the hosts: each one a dead run left mid-cycle, and each
// one already out of rotation before the run, so that what this run did to them reads right.
import type { HostReport } from './host-report.js'
import { describeLeft } from './journal.js'

/** Markdown lines (empty when every host was found in rotation and no run left one mid-cycle). */
export function renderFound(hosts: readonly HostReport[], escape: (text: string) => string): string[] {
  const lines = hosts.flatMap(({ target, found }) => {
    if (found?.left) return [`- ${escape(target.entry)}: ${escape(describeLeft(found.left))}`]
    if (found?.rotation === 'out') return [`- ${escape(target.entry)}: out of rotation before this run`]
    return []
  })
  return lines.length === 0 ? [] : ['**Found before this run**', '', ...lines, '']
}
