// The capacity floor (min-in-rotation), checked before a batch leaves rotation: the load balancer
// port's measure of every host outside the batch (online-probe, HAProxy's state...), in parallel,
// so a host already out for another reason (a crash, a person's maintenance) counts, and the
// rollout never takes the fleet below the floor.
import type { CapacitySettings, Settings } from '../inputs/settings.js'
import type { Clock, LoadBalancer, Log } from '../ports.js'
import type { PlacedHost } from './placement.js'
import { pollUntil, type Verdict } from './poll.js'
import { hostVariables } from '../variables.js'

export interface CapacityDeps {
  readonly settings: Settings
  readonly lb: LoadBalancer
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
}

/**
 * Resolves once enough hosts outside `batch` are in rotation to take the batch out; waits up to
 * capacity-wait for them; throws PollTimeout (naming the hosts out) or PollCancelled otherwise.
 */
export async function awaitCapacity(
  deps: CapacityDeps,
  capacity: CapacitySettings,
  batch: { readonly number: number; readonly hosts: readonly PlacedHost[] },
  others: readonly PlacedHost[]
): Promise<void> {
  const { settings, clock, log, signal } = deps
  const names = batch.hosts.map((host) => host.target.entry).join(', ')
  const verdict = await pollUntil(() => countInRotation(deps, others, capacity.minInRotation), {
    clock,
    timeoutMs: capacity.waitMs,
    intervalMs: settings.loadBalancer.probeIntervalMs,
    signal,
    waitingFor: 'hosts to come back into rotation (min-in-rotation)',
    failed: `taking batch ${batch.number} (${names}) out would leave fewer than min-in-rotation (${capacity.minInRotation}) hosts in rotation`,
    onAttempt: ({ ok, detail }, attempt) => {
      if (!ok && attempt === 1) log.info(`Waiting up to ${capacity.waitMs} ms for capacity: ${detail}`)
    }
  })
  log.info(`Capacity before batch ${batch.number}: ${verdict.detail}`)
}

/** One round of the load balancer's measure on every other host: only a host measured in counts. */
async function countInRotation(deps: CapacityDeps, others: readonly PlacedHost[], floor: number): Promise<Verdict> {
  const { settings, lb } = deps
  const results = await Promise.all(
    others.map((place) => lb.inRotation({ host: place.host, env: hostVariables(settings, place) }))
  )
  const out = others.filter((_, i) => results[i] !== 'in').map((place) => place.target.entry)
  const inRotation = others.length - out.length
  return {
    ok: inRotation >= floor,
    detail:
      `${inRotation} of ${others.length} other host(s) in rotation` + (out.length > 0 ? `; out: ${out.join(', ')}` : '')
  }
}
