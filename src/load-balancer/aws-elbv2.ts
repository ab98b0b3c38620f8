// load-balancer: aws-elbv2, target groups of an AWS Application or Network Load Balancer: out is
// DeregisterTargets, then the target draining until `unused`; back is RegisterTargets, then until
// `healthy`. Every change goes to every target group, and every wait covers them all. The groups'
// settings (attached load balancers, health check, deregistration delay) are read once per run.
import type { AwsElbv2Settings } from '../inputs/settings.js'
import { NEVER_ABORTED, type LbMember, type LoadBalancer, type Rotation } from '../ports.js'
import { errorMessage } from '../errors.js'
import { PreflightError } from '../rollout/preflight.js'
import {
  awaitTarget,
  MARGIN_MS,
  healthOf,
  isRegistered,
  note,
  rotationOf,
  stateText,
  targetText,
  type Group,
  type WaitDeps
} from './aws-waits.js'
import type { LbDeps } from './lb-deps.js'
import { sdkElbApi, type ElbApi } from './elb-api.js'

export { MARGIN_MS }

export function awsElbv2Balancer(
  deps: LbDeps,
  settings: AwsElbv2Settings,
  api: ElbApi & { destroy?(): void } = sdkElbApi()
): LoadBalancer {
  return new AwsElbv2Balancer(deps, settings, api)
}

class AwsElbv2Balancer implements LoadBalancer {
  readonly kind = 'aws-elbv2'
  private readonly waitDeps: WaitDeps
  private loaded: Promise<Group[]> | undefined
  /** Per host entry: the last state seen in each group, so each transition is logged once. */
  private readonly seen = new Map<string, Map<string, string>>()
  private readonly registeredAt = new Map<string, number>()

  constructor(
    private readonly deps: LbDeps,
    private readonly settings: AwsElbv2Settings,
    private readonly api: ElbApi & { destroy?(): void }
  ) {
    this.waitDeps = { api, clock: deps.clock, log: deps.log, intervalMs: deps.settings.loadBalancer.probeIntervalMs }
  }

  describe(members: readonly LbMember[], signal: AbortSignal): Promise<string[]> {
    const deps = { api: this.api, waitDeps: this.waitDeps, groups: this.groups, waitOf: this.waitOf }
    return describeMembers(deps, members, signal)
  }

  takeOut(member: LbMember, signal: AbortSignal): Promise<void> {
    return this.change(member, signal, 'deregister')
  }

  async awaitOut(member: LbMember, signal: AbortSignal): Promise<void> {
    const groups = await this.groups(signal)
    const delayMs = Math.max(...groups.map((group) => group.delayMs))
    const timeoutMs = Math.max(this.deps.settings.loadBalancer.offline.waitMs, delayMs + MARGIN_MS)
    this.deps.log.info(
      `[${entryOf(member)}] draining: ${groups.map((group) => `${group.name} ${group.delayMs / 1000} s`).join(', ')} ` +
        `(deregistration_delay.timeout_seconds); waiting up to ${timeoutMs / 1000} s for unused`
    )
    const since = this.deps.clock.now()
    await awaitTarget(this.waitDeps, { ...this.waitOf(member), groups, direction: 'out', timeoutMs, since }, signal)
  }

  putBack(member: LbMember, signal: AbortSignal): Promise<void> {
    return this.change(member, signal, 'register')
  }

  async awaitIn(member: LbMember, signal: AbortSignal): Promise<void> {
    const groups = await this.groups(signal)
    const checksMs = Math.max(...groups.map((group) => group.healthyThreshold * group.healthCheckIntervalMs))
    const timeoutMs = Math.max(this.deps.settings.loadBalancer.online.waitMs, checksMs + MARGIN_MS)
    const since = this.registeredAt.get(entryOf(member)) ?? this.deps.clock.now()
    await awaitTarget(this.waitDeps, { ...this.waitOf(member), groups, direction: 'in', timeoutMs, since }, signal)
  }

  async inRotation(member: LbMember): Promise<Rotation> {
    try {
      const groups = await this.groups(NEVER_ABORTED)
      const wait = this.waitOf(member)
      const rotations = await Promise.all(
        groups.map(async (group) => {
          const found = await this.api.describeTargetHealth(group.arn, [wait.target], NEVER_ABORTED)
          const health = healthOf(found, wait.target)
          note(this.waitDeps, wait, group, health)
          return rotationOf(health)
        })
      )
      // In only where every group sends it requests; out of any one, it is not fully serving.
      return rotations.includes('out') ? 'out' : rotations.every((rotation) => rotation === 'in') ? 'in' : 'unknown'
    } catch {
      return 'unknown'
    }
  }

  async close(): Promise<void> {
    this.api.destroy?.()
  }

  /** The groups, read once per run; a failed read is read again next time. */
  private readonly groups = (signal: AbortSignal): Promise<Group[]> => {
    this.loaded ??= loadGroups(this.api, this.settings.targetGroups, signal, this.deps.log).catch((error: unknown) => {
      this.loaded = undefined
      throw error
    })
    return this.loaded
  }

  private readonly waitOf = (member: LbMember) => {
    const entry = entryOf(member)
    const target = this.settings.targets.get(entry)
    if (target === undefined) throw new Error(`aws-targets has no target for ${entry}`)
    const seen = this.seen.get(entry) ?? new Map<string, string>()
    this.seen.set(entry, seen)
    return { entry: `[${entry}]`, target, seen }
  }

  private async change(member: LbMember, signal: AbortSignal, verb: 'register' | 'deregister'): Promise<void> {
    const groups = await this.groups(signal)
    const { target } = this.waitOf(member)
    const names = groups.map((group) => group.name).join(', ')
    this.deps.log.info(`[${entryOf(member)}] ${verb}ing ${targetText(target)} in ${names}`)
    if (verb === 'register') this.registeredAt.set(entryOf(member), this.deps.clock.now())
    await Promise.all(
      groups.map((group) =>
        verb === 'register'
          ? this.api.registerTargets(group.arn, [target], signal)
          : this.api.deregisterTargets(group.arn, [target], signal)
      )
    )
  }
}

const entryOf = (member: LbMember) => member.host.target.entry

/** Reads the groups and their deregistration delays; refuses a missing group or one attached to no load balancer. */
async function loadGroups(api: ElbApi, arns: readonly string[], signal: AbortSignal, log: LbDeps['log']) {
  const found = await api.describeTargetGroups(arns, signal)
  const problems = arns.flatMap((arn) => {
    const group = found.find((info) => info.arn === arn)
    if (group === undefined) return [`target group ${arn} was not found`]
    // Attached to nothing, every target reads `unused`: a wait for out would pass at once, and in never.
    if (group.loadBalancerArns.length === 0)
      return [
        `target group ${group.name} is attached to no load balancer, so its targets read unused whether or not they serve`
      ]
    return []
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  const ordered = arns.flatMap((arn) => found.filter((info) => info.arn === arn).slice(0, 1))
  return Promise.all(
    ordered.map(async (group): Promise<Group> => {
      const { arn } = group
      const delayMs = await api.deregistrationDelayMs(arn, signal)
      log.info(
        `aws-elbv2: target group ${group.name}: deregistration delay ${delayMs / 1000} s; health check every ` +
          `${group.healthCheckIntervalMs / 1000} s, healthy after ${group.healthyThreshold}, unhealthy after ${group.unhealthyThreshold}`
      )
      return { ...group, delayMs }
    })
  )
}

interface DescribeDeps {
  readonly api: ElbApi
  readonly waitDeps: Parameters<typeof note>[0]
  readonly groups: (signal: AbortSignal) => Promise<Group[]>
  readonly waitOf: (member: LbMember) => Parameters<typeof note>[1]
}

/**
 * Preflight: each member's state in every group, one DescribeTargetHealth per group for all of them.
 * A target a group does not know is refused: most likely a mistake in aws-targets, and deregistering
 * an unknown target would "confirm" out at once while the real host went on serving.
 */
async function describeMembers(deps: DescribeDeps, members: readonly LbMember[], signal: AbortSignal) {
  const all = await deps.groups(signal).catch((error: unknown) => {
    const message = `aws-elbv2: ${errorMessage(error)}`
    throw new PreflightError(members.map((member) => ({ target: member.host.target, message })))
  })
  const waits = members.map(deps.waitOf)
  const readings = await Promise.all(
    all.map((group) =>
      deps.api.describeTargetHealth(
        group.arn,
        waits.map((wait) => wait.target),
        signal
      )
    )
  ).catch((error: unknown) => {
    const message = `aws-elbv2: cannot read target health: ${errorMessage(error)}`
    throw new PreflightError(members.map((member) => ({ target: member.host.target, message })))
  })
  const failures: { target: LbMember['host']['target']; message: string }[] = []
  const texts = waits.map((wait, i) => {
    const states = all.map((group, g) => {
      const health = healthOf(readings[g], wait.target)
      note(deps.waitDeps, wait, group, health, true) // the caller logs what describe returns
      return { group, health }
    })
    const unknown = states.filter(({ health }) => !isRegistered(health)).map(({ group }) => group.name)
    // Deregistered by a run that died before registering it again: this run's cycle of it heals it.
    if (unknown.length > 0 && !members[i].left)
      failures.push({
        target: members[i].host.target,
        message:
          `its target ${targetText(wait.target)} (aws-targets) is not registered in target group ${unknown.join(', ')}; ` +
          'check aws-targets, or register it again if an earlier run left it out'
      })
    return states
      .map(({ group, health }) => `${group.name} ${targetText(wait.target)}: ${stateText(health)}`)
      .join('; ')
  })
  if (failures.length > 0) throw new PreflightError(failures)
  return texts
}
