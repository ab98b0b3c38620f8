// A fake ELBv2 API on virtual time for the aws-elbv2 adapter's unit tests: target groups whose
// targets drain for the group's delay and pass (or fail) their threshold of health checks, and a
// count of every call by action, as AWS would bill the rate limit.
import { awsElbv2Balancer } from '../../src/load-balancer/aws-elbv2.js'
import type { LbDeps } from '../../src/load-balancer/lb-deps.js'
import type { ElbApi, ElbTarget, GroupInfo, TargetHealth } from '../../src/load-balancer/elb-api.js'
import type { LbMember } from '../../src/ports.js'
import { FakeClock, FakeHost, RecordingLog, settingsWith } from './fakes.js'

export interface FakeGroup extends GroupInfo {
  delayMs: number
}

/** A target's life in one group: from `at`, `state` (then, from `thenAt`, `then`). */
interface Life {
  state: string
  reason?: string
  at: number
  then?: { state: string; reason?: string; at: number }
}

export const arnOf = (name: string, id = '0123456789abcdef') =>
  `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/${id}`

export function fakeGroup(name: string, overrides: Partial<FakeGroup> = {}): FakeGroup {
  return {
    arn: arnOf(name),
    name,
    loadBalancerArns: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1'],
    healthCheckIntervalMs: 5000,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    delayMs: 20_000,
    ...overrides
  }
}

const key = (arn: string, target: ElbTarget) => `${arn} ${target.id}:${target.port ?? ''}`

export class FakeElb implements ElbApi {
  readonly calls: { action: string; arn?: string; targets?: readonly ElbTarget[] }[] = []
  private readonly lives = new Map<string, Life>()
  /** Targets whose health checks fail once registered. */
  readonly failing = new Set<string>()
  /** Thrown by the next call of that action. */
  readonly errors = new Map<string, Error>()

  constructor(
    private readonly clock: FakeClock,
    readonly groups: FakeGroup[]
  ) {}

  /** Puts a target in a state now (a target already registered and healthy, one left draining...). */
  set(arn: string, target: ElbTarget, state: string, reason?: string, then?: Life['then']): void {
    this.lives.set(key(arn, target), { state, reason, at: this.clock.now(), then })
  }

  count(action: string): number {
    return this.calls.filter((call) => call.action === action).length
  }

  private call(action: string, arn?: string, targets?: readonly ElbTarget[]) {
    this.calls.push({ action, arn, targets })
    this.clock.time += 20
    const error = this.errors.get(action)
    this.errors.delete(action)
    if (error) throw error
  }

  private group(arn: string): FakeGroup {
    const group = this.groups.find((g) => g.arn === arn)
    if (!group) throw Object.assign(new Error('One or more target groups not found'), { $fault: 'client' })
    return group
  }

  async describeTargetGroups(arns: readonly string[]) {
    this.call('DescribeTargetGroups')
    return this.groups.filter((group) => arns.includes(group.arn))
  }

  async deregistrationDelayMs(arn: string) {
    this.call('DescribeTargetGroupAttributes', arn)
    return this.group(arn).delayMs
  }

  async describeTargetHealth(arn: string, targets: readonly ElbTarget[]): Promise<TargetHealth[]> {
    this.call('DescribeTargetHealth', arn, targets)
    this.group(arn)
    return targets.map((target) => {
      const current = this.stateOf(arn, target)
      if (!current) return { target, state: 'unused', reason: 'Target.NotRegistered' }
      return { target, state: current.state, reason: current.reason }
    })
  }

  private stateOf(arn: string, target: ElbTarget): { state: string; reason?: string } | undefined {
    const life = this.lives.get(key(arn, target))
    return life?.then && this.clock.now() >= life.then.at ? life.then : life
  }

  async registerTargets(arn: string, targets: readonly ElbTarget[]) {
    this.call('RegisterTargets', arn, targets)
    const group = this.group(arn)
    for (const target of targets) {
      // As AWS: registering a registered target changes nothing (draining, it starts again).
      const current = this.stateOf(arn, target)
      if (current && current.reason !== 'Target.NotRegistered' && current.state !== 'draining') continue
      const fails = this.failing.has(target.id)
      const threshold = fails ? group.unhealthyThreshold : group.healthyThreshold
      this.set(arn, target, 'initial', 'Elb.RegistrationInProgress', {
        state: fails ? 'unhealthy' : 'healthy',
        reason: fails ? 'Target.ResponseCodeMismatch' : undefined,
        at: this.clock.now() + threshold * group.healthCheckIntervalMs
      })
    }
  }

  async deregisterTargets(arn: string, targets: readonly ElbTarget[]) {
    this.call('DeregisterTargets', arn, targets)
    const group = this.group(arn)
    for (const target of targets) {
      const current = this.stateOf(arn, target)
      if (!current || current.reason === 'Target.NotRegistered') continue
      this.set(arn, target, 'draining', 'Target.DeregistrationInProgress', {
        state: 'unused',
        reason: 'Target.NotRegistered',
        at: this.clock.now() + group.delayMs
      })
    }
  }
}

export const NEVER = new AbortController().signal
export const TARGETS = ['i-0000000000000000a', 'i-0000000000000000b']

/** Two hosts, h1 and h2, registered and healthy in every group; the adapter over a FakeElb. */
export function setUp(groups: FakeGroup[] = [fakeGroup('web')], inputs: Record<string, string> = {}) {
  const settings = settingsWith({
    hosts: 'deploy@h1\ndeploy@h2',
    'health-file': '',
    'load-balancer': 'aws-elbv2',
    'target-groups': groups.map((group) => group.arn).join('\n'),
    'aws-targets': `deploy@h1=${TARGETS[0]}\ndeploy@h2=${TARGETS[1]}`,
    'probe-interval': '1s',
    ...inputs
  })
  const clock = new FakeClock()
  const log = new RecordingLog()
  const elb = new FakeElb(clock, groups)
  const deps = { settings, clock, log } as unknown as LbDeps
  const awsElbv2 = settings.loadBalancer.awsElbv2
  if (!awsElbv2) throw new Error('no aws-elbv2 settings')
  const lb = awsElbv2Balancer(deps, awsElbv2, elb)
  const members: LbMember[] = settings.hosts.map((target) => ({ host: new FakeHost(target, clock), env: [] }))
  // Both hosts registered and healthy in every group, as a fleet in service is.
  for (const group of groups) TARGETS.forEach((id) => elb.set(group.arn, { id }, 'healthy'))
  return { clock, log, elb, lb, members, groups }
}
