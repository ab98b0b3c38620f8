// Waiting on one target's health in its target groups (aws-elbv2): polled with DescribeTargetHealth
// for that target alone (a whole group may hold unhealthy targets that are none of ours), until it is
// `unused` in every group (out) or `healthy` (in). Each state change is logged once.
import type { Clock, Log, Rotation } from '../ports.js'
import { pollUntil } from '../rollout/poll.js'
import type { ElbApi, ElbTarget, GroupInfo, TargetHealth } from './elb-api.js'

/**
 * Beyond a group's own time (its deregistration delay out, its healthy threshold of checks in): AWS
 * reports the state change a few seconds after it happens, and registration itself takes a while.
 */
export const MARGIN_MS = 30_000

/** A target group as the adapter uses it: its settings and its deregistration delay. */
export interface Group extends GroupInfo {
  readonly delayMs: number
}

export interface WaitDeps {
  readonly api: ElbApi
  readonly clock: Clock
  readonly log: Log
  readonly intervalMs: number
}

/** `i-0abc`, `10.0.0.5:8080`, `[2001:db8::5]:8080`: a target as the log names it. */
export const targetText = ({ id, port }: ElbTarget): string =>
  port === undefined ? id : id.includes(':') ? `[${id}]:${port}` : `${id}:${port}`

/** The target's reading among `found` (AWS fills in the group's port where the target gave none). */
export function healthOf(found: readonly TargetHealth[], target: ElbTarget): TargetHealth | undefined {
  return found.find(
    (health) => health.target.id === target.id && (target.port ?? health.target.port) === health.target.port
  )
}

/** `draining (Target.DeregistrationInProgress)`, or `not registered` when AWS did not list it at all. */
export const stateText = (health: TargetHealth | undefined): string =>
  health === undefined ? 'not registered' : health.reason ? `${health.state} (${health.reason})` : health.state

export const isRegistered = (health: TargetHealth | undefined): boolean =>
  health !== undefined && !(health.state === 'unused' && health.reason === 'Target.NotRegistered')

/** Whether the load balancer sends the target new requests: only a healthy target gets them. */
export function rotationOf(health: TargetHealth | undefined): Rotation {
  if (health === undefined) return 'out'
  if (health.state === 'healthy' || health.state === 'unavailable') return 'in'
  return ['initial', 'unhealthy', 'unhealthy.draining', 'draining', 'unused'].includes(health.state) ? 'out' : 'unknown'
}

/** An API refusal that asking again will not change (access denied, no such group), unlike throttling. */
function lasting(error: unknown): boolean {
  const { $fault, name } = error as { $fault?: string; name?: string }
  return $fault === 'client' && !/Throttl|RequestLimit|TooManyRequests/.test(name ?? '')
}

export interface Wait {
  /** `[entry]`, for the log. */
  readonly entry: string
  readonly target: ElbTarget
  readonly groups: readonly Group[]
  readonly direction: 'in' | 'out'
  readonly timeoutMs: number
  /** In: when it was registered; an `unhealthy` seen after a group's unhealthy threshold fails at once. */
  readonly since: number
  /** The last state seen per group ARN (shared across waits, so a transition is logged once). */
  readonly seen: Map<string, string>
}

/** Polls every group not yet done until the target is out (unused) or in (healthy) everywhere. */
export async function awaitTarget(deps: WaitDeps, wait: Wait, signal: AbortSignal): Promise<void> {
  const { api, clock } = deps
  const pending = new Map(wait.groups.map((group) => [group.arn, group]))
  const done = (health: TargetHealth | undefined) =>
    wait.direction === 'out' ? health === undefined || health.state === 'unused' : health?.state === 'healthy'
  const stop = new AbortController()
  let fatal: Error | undefined
  /** Groups where this wait has seen the target in another state than unhealthy (so an unhealthy is new). */
  const fresh = new Set<string>()
  const attempt = async () => {
    const readings = await Promise.all(
      [...pending.values()].map(async (group) => {
        const health = healthOf(await api.describeTargetHealth(group.arn, [wait.target], stop.signal), wait.target)
        note(deps, wait, group, health)
        if (done(health)) pending.delete(group.arn)
        else if (fresh.has(group.arn)) fatal ??= failing(wait, group, health, clock.now())
        if (!health?.state.startsWith('unhealthy')) fresh.add(group.arn)
        return `${group.name}: ${stateText(health)}`
      })
    ).catch((error: unknown) => {
      if (lasting(error)) {
        fatal = error instanceof Error ? error : new Error(String(error))
        stop.abort()
      }
      throw error
    })
    if (fatal !== undefined) stop.abort()
    return { ok: pending.size === 0, detail: readings.join('; ') }
  }
  const onAbort = () => stop.abort()
  if (signal.aborted) stop.abort()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await pollUntil(attempt, {
      clock,
      timeoutMs: wait.timeoutMs,
      intervalMs: deps.intervalMs,
      signal: stop.signal,
      waitingFor: `${targetText(wait.target)} to be ${wait.direction === 'out' ? 'unused' : 'healthy'}`,
      failed: `${targetText(wait.target)} was not ${wait.direction === 'out' ? 'unused (drained)' : 'healthy'} in every target group`
    })
  } catch (error: unknown) {
    throw fatal ?? error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Coming in, an `unhealthy` read after another state, once the target had the group's unhealthy
 * threshold of checks since RegisterTargets, is the answer: waiting on would only delay it. One read
 * first is the state from before (a target registered already, which RegisterTargets leaves as it
 * is): it may still turn healthy, after its healthy threshold, so only the bound ends that wait.
 */
function failing(wait: Wait, group: Group, health: TargetHealth | undefined, now: number): Error | undefined {
  if (wait.direction !== 'in' || health === undefined || !health.state.startsWith('unhealthy')) return undefined
  const checksMs = group.unhealthyThreshold * group.healthCheckIntervalMs
  if (now - wait.since < checksMs) return undefined
  const why = health.description ? `: ${health.description}` : ''
  return new Error(
    `${targetText(wait.target)} is ${stateText(health)} in target group ${group.name}${why} ` +
      `(after ${Math.round((now - wait.since) / 1000)} s, ${group.unhealthyThreshold} failed checks every ${group.healthCheckIntervalMs / 1000} s)`
  )
}

/**
 * Logs the target's state in the group when it differs from the last one seen (a new reason alone,
 * `Elb.RegistrationInProgress` to `Elb.InitialHealthChecking`, is no change); `quiet` only remembers it.
 */
export function note(
  deps: WaitDeps,
  wait: Pick<Wait, 'entry' | 'target' | 'seen'>,
  group: Group,
  health: TargetHealth | undefined,
  quiet = false
) {
  const text = stateText(health)
  const before = wait.seen.get(group.arn)
  if (before !== undefined && before.split(' (')[0] === text.split(' (')[0]) return
  wait.seen.set(group.arn, text)
  const change = before === undefined ? text : `${before} → ${text}`
  if (!quiet) deps.log.info(`${wait.entry} ${group.name}: ${targetText(wait.target)} ${change}`)
}
