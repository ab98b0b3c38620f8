// When the run beats on its deploy locks (locks.ts): every connected host each BEAT_MS, a parked
// one (max-connections disconnected it) less often, since each of its beats connects it again.
import type { RemoteHost } from '../ports.js'

/** How often the run beats on its locks. */
export const BEAT_MS = 10_000
/** A lock whose beats stopped this long ago (a few missed beats) is a dead run's, unless lock-stale-after says otherwise. */
export const DEFAULT_STALE_MS = 60_000

/**
 * A fleet bigger than max-connections dates its beats this far ahead (a lease), so that a parked
 * host (one max-connections disconnected) needs a beat, which connects it again, only this often:
 * beating 450 parked hosts every half of lock-stale-after would take most of the handshakes a
 * runner and the hosts can make. Another run then reads such a lock as held until the lease and
 * lock-stale-after have both passed; a re-run of the same workflow run still takes it at once.
 */
export const PARKED_LEASE_MS = 300_000

/**
 * How often a parked host is beaten: every lease (a beat dated a lease ahead is good for a lease
 * and lock-stale-after more); with no lease, at half of stale-after less a beat's period, so that a
 * beat late by a tick and a slow sweep still lands well before the lock would look dead.
 */
export function parkedBeatEveryMs(staleMs: number, leaseMs = 0): number {
  return leaseMs > 0 ? leaseMs : Math.max(BEAT_MS, staleMs / 2 - BEAT_MS)
}

/**
 * The hosts to beat now, in order: every host still connected (a beat on it costs a round trip),
 * then each parked one whose last beat is parkedBeatEveryMs old, the oldest first.
 */
export function dueForBeat(
  hosts: readonly RemoteHost[],
  lastBeat: ReadonlyMap<RemoteHost, number>,
  now: number,
  staleMs: number,
  leaseMs = 0
): RemoteHost[] {
  const age = (host: RemoteHost) => now - (lastBeat.get(host) ?? -Infinity)
  const connected = hosts.filter((host) => host.parked !== true)
  const parked = hosts.filter((host) => host.parked === true && age(host) >= parkedBeatEveryMs(staleMs, leaseMs))
  return [...connected, ...parked.sort((a, b) => age(b) - age(a))]
}
