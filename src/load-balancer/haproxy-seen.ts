// What HAProxy shows of one host's servers, as the log and the errors say it.
import { serverName, type ServerRef, type ServerStat } from './haproxy-api.js'

/** One of a host's servers as one HAProxy shows it; no stat where `show stat` does not list it. */
export interface Seen {
  /** Which HAProxy: its LB host's entry, or its socket. */
  readonly where: string
  readonly ref: ServerRef
  readonly stat?: ServerStat
}

/** `app/web1 UP`; with several HAProxies, where: `app/web1 UP at lb1, lb2` or `UP at lb1, DRAIN at lb2`. */
export function describeSeen(seen: readonly Seen[], many: boolean): string {
  const names = [...new Set(seen.map(({ ref }) => serverName(ref)))]
  return names
    .map((name) => {
      const byStatus = new Map<string, string[]>()
      for (const { stat, where } of seen.filter(({ ref }) => serverName(ref) === name)) {
        const status = stat?.status ?? 'not in show stat'
        byStatus.set(status, [...(byStatus.get(status) ?? []), where])
      }
      const states = [...byStatus].map(([status, wheres]) => (many ? `${status} at ${wheres.join(', ')}` : status))
      return `${name} ${states.join(', ')}`
    })
    .join('; ')
}

/** `2 sessions (app/web1 2 at lb1)`. */
export function sessions(busy: readonly Seen[]): string {
  const total = busy.reduce((sum, { stat }) => sum + (stat?.scur ?? 0), 0)
  const each = busy.map(({ ref, stat, where }) => `${serverName(ref)} ${stat?.scur} at ${where}`)
  return `${total} session${total === 1 ? '' : 's'}${each.length > 0 ? ` (${each.join(', ')})` : ''}`
}
