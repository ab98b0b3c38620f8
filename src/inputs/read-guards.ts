// The guards around the rollout as a whole: the deploy lock, the capacity floor, and the bake with
// its analysis. Each is off unless asked for (the lock is on by default), and an input that only
// means something with another one is refused without it.
import type { InputReader } from './input-reader.js'
import {
  InputError,
  parseBoolean,
  parseDuration,
  parseDurationList,
  parseHostCount,
  parseInteger,
  positiveDuration,
  type BatchStep
} from './parse.js'
import type { BakeSettings, CapacitySettings, LoadBalancerSettings, LockSettings } from './settings.js'

export function readLock(input: InputReader, releaseDir: string | undefined): LockSettings | undefined {
  const on = input.defaulted('lock', parseBoolean)
  const path = input.parse('lock-path', (value) => {
    if (!value.startsWith('/') || value.includes('\n'))
      throw new InputError('expected an absolute path on the host, e.g. /var/lock/deploy-app')
    return value
  })
  const waitMs = input.defaulted('lock-wait', parseDuration)
  const staleAfterMs = input.parse('lock-stale-after', positiveDuration)
  if (!on) {
    for (const name of ['lock-wait', 'lock-path', 'lock-stale-after'] as const) {
      if (input.raw(name) !== undefined && (name !== 'lock-wait' || waitMs > 0))
        input.problem(name, input.raw(name), 'needs lock: true')
    }
    return undefined
  }
  return { path: path ?? (releaseDir === undefined ? undefined : `${releaseDir}/.lock`), waitMs, staleAfterMs }
}

/**
 * min-in-rotation and capacity-wait. The floor is checked with online-probe, the only evidence of
 * the load balancer's view the action has; a floor no batch can ever keep is refused here, before
 * any host is reached.
 */
export function readCapacity(
  input: InputReader,
  hostCount: number,
  sizes: readonly number[],
  { online, kind }: LoadBalancerSettings
): CapacitySettings | undefined {
  const waitMs = input.defaulted('capacity-wait', parseDuration)
  const floor = input.parse('min-in-rotation', (value) => parseHostCount(value, hostCount))
  if (floor === undefined) {
    if (waitMs > 0) input.problem('capacity-wait', input.raw('capacity-wait'), 'needs min-in-rotation')
    return undefined
  }
  // HAProxy and ELBv2 say themselves which hosts serve; behind the others only online-probe can.
  if (online.probe === undefined && (kind === 'health-file' || kind === 'commands')) {
    input.problem(
      'min-in-rotation',
      input.raw('min-in-rotation'),
      `needs online-probe with load-balancer: ${kind}: it is how the action sees which other hosts are in rotation`
    )
  }
  const largest = Math.max(0, ...sizes)
  if (hostCount > 0 && hostCount - largest < floor) {
    input.problem(
      'min-in-rotation',
      input.raw('min-in-rotation'),
      `is ${floor} host(s), but a batch of ${largest} out of ${hostCount} leaves ${hostCount - largest}; expected at most ${hostCount - largest}, or smaller batches`
    )
  }
  return { minInRotation: floor, waitMs }
}

/**
 * bake-time (one per batch-size step, the last repeating) and the analysis that judges each bake;
 * `sizes` are the batches' sizes for these hosts.
 */
export function readBake(
  input: InputReader,
  batchSteps: readonly BatchStep[],
  sizes: readonly number[],
  warnings: string[]
): BakeSettings | undefined {
  const timesMs = input.parse('bake-time', parseDurationList)
  const command = input.raw('analysis-command')
  const intervalMs = input.defaulted('analysis-interval', positiveDuration)
  const failures = input.defaulted('analysis-failures', (value) => parseInteger(value, 1, 1000))
  if (timesMs === undefined) {
    if (command !== undefined)
      input.problem('analysis-command', undefined, 'needs bake-time: the analysis judges a bake')
    return undefined
  }
  if (timesMs.length > batchSteps.length) {
    input.problem(
      'bake-time',
      input.raw('bake-time'),
      `has ${timesMs.length} durations but batch-size '${input.raw('batch-size')}' has ${batchSteps.length} step(s); expected one duration, or at most one per batch-size step`
    )
  }
  if (sizes.length === 1)
    warnings.push('bake-time has no effect: every host is in one batch, so no batch follows a bake')
  return { timesMs, analysis: command === undefined ? undefined : { command, intervalMs, failures } }
}
