// The aws-elbv2 adapter's logic on virtual time, through a fake ELBv2 API that counts its calls.
import { describe, expect, it } from '@jest/globals'
import { awsElbv2Balancer, MARGIN_MS } from '../src/load-balancer/aws-elbv2.js'
import type { LbDeps } from '../src/load-balancer/create.js'
import { PreflightError } from '../src/rollout/preflight.js'
import type { LbMember } from '../src/ports.js'
import { FakeClock, FakeHost, RecordingLog, settingsWith } from '../__fixtures__/fakes.js'
import { FakeElb, fakeGroup, type FakeGroup } from '../__fixtures__/fake-elb.js'

const NEVER = new AbortController().signal
const TARGETS = ['i-0000000000000000a', 'i-0000000000000000b']

function setUp(groups: FakeGroup[] = [fakeGroup('web')], inputs: Record<string, string> = {}) {
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

describe('aws-elbv2: out', () => {
  it('deregisters the host alone, then waits out the draining delay polling only its target', async () => {
    const { clock, log, elb, lb, members, groups } = setUp([fakeGroup('web', { delayMs: 20_000 })])
    const start = clock.now()
    await lb.takeOut(members[0], NEVER)
    await lb.awaitOut(members[0], NEVER)
    const took = clock.now() - start
    expect(took).toBeGreaterThanOrEqual(20_000)
    expect(took).toBeLessThan(22_000)
    expect(elb.calls.filter((call) => call.action === 'DeregisterTargets')).toEqual([
      { action: 'DeregisterTargets', arn: groups[0].arn, targets: [{ id: TARGETS[0] }] }
    ])
    // Every health read names the target: never the whole group.
    const reads = elb.calls.filter((call) => call.action === 'DescribeTargetHealth')
    expect(reads.every((call) => JSON.stringify(call.targets) === JSON.stringify([{ id: TARGETS[0] }]))).toBe(true)
    expect(reads.length).toBeGreaterThanOrEqual(20)
    expect(reads.length).toBeLessThanOrEqual(22)
    expect(log.lines).toContain(
      '[deploy@h1] draining: web 20 s (deregistration_delay.timeout_seconds); waiting up to 50 s for unused'
    )
    expect(log.lines).toContain(
      `[deploy@h1] web: ${TARGETS[0]} draining (Target.DeregistrationInProgress) → unused (Target.NotRegistered)`
    )
  })

  it('bounds the wait by the delay and its margin when that is longer than offline-wait, and says so', async () => {
    const { clock, elb, lb, members, groups } = setUp([fakeGroup('web', { delayMs: 300_000 })])
    await lb.takeOut(members[0], NEVER)
    // Stuck draining (AWS never finishes it): the bound is max(offline-wait 8 s, 300 s + margin).
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'draining', 'Target.DeregistrationInProgress')
    const start = clock.now()
    await expect(lb.awaitOut(members[0], NEVER)).rejects.toThrow(
      `${TARGETS[0]} was not unused (drained) in every target group after ${300_000 + MARGIN_MS} ms: web: draining (Target.DeregistrationInProgress)`
    )
    expect(clock.now() - start).toBeGreaterThanOrEqual(300_000 + MARGIN_MS)
    expect(clock.now() - start).toBeLessThan(300_000 + MARGIN_MS + 2000)
  })

  it('offline-wait bounds it when longer than the delay and its margin', async () => {
    const { clock, elb, lb, members, groups } = setUp([fakeGroup('web', { delayMs: 1000 })], { 'offline-wait': '2m' })
    await lb.takeOut(members[0], NEVER)
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'draining')
    const start = clock.now()
    await expect(lb.awaitOut(members[0], NEVER)).rejects.toThrow(/after 120000 ms/)
    expect(clock.now() - start).toBeLessThan(122_000)
  })

  it('a target already deregistered is out at the first read: no hang', async () => {
    const { clock, elb, lb, members, groups } = setUp()
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'unused', 'Target.NotRegistered')
    const start = clock.now()
    await lb.takeOut(members[0], NEVER)
    await lb.awaitOut(members[0], NEVER)
    expect(clock.now() - start).toBeLessThan(1000)
    expect(elb.count('DescribeTargetHealth')).toBe(1)
  })
})

describe('aws-elbv2: back', () => {
  it('registers, then waits until healthy: the healthy threshold of checks', async () => {
    const { clock, elb, lb, members, groups } = setUp()
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'unused', 'Target.NotRegistered')
    const start = clock.now()
    await lb.putBack(members[0], NEVER)
    await lb.awaitIn(members[0], NEVER)
    expect(clock.now() - start).toBeGreaterThanOrEqual(10_000)
    expect(clock.now() - start).toBeLessThan(12_000)
    expect(elb.calls.find((call) => call.action === 'RegisterTargets')).toEqual({
      action: 'RegisterTargets',
      arn: groups[0].arn,
      targets: [{ id: TARGETS[0] }]
    })
  })

  it('fails at once on unhealthy after the unhealthy threshold, long before online-wait', async () => {
    const { clock, elb, lb, members, groups } = setUp([fakeGroup('web')], { 'online-wait': '10m' })
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'unused', 'Target.NotRegistered')
    elb.failing.add(TARGETS[0])
    const start = clock.now()
    await lb.putBack(members[0], NEVER)
    await expect(lb.awaitIn(members[0], NEVER)).rejects.toThrow(
      /^i-0000000000000000a is unhealthy \(Target.ResponseCodeMismatch\) in target group web \(after 10 s, 2 failed checks every 5 s\)$/
    )
    expect(clock.now() - start).toBeLessThan(12_000)
  })

  it('an unhealthy state read before the target had its checks is waited past (the state from before)', async () => {
    const { clock, elb, lb, members, groups } = setUp()
    const arn = groups[0].arn
    await lb.putBack(members[0], NEVER)
    // Stale for 3 s after registering, then initial, then healthy at 12 s.
    elb.set(arn, { id: TARGETS[0] }, 'unhealthy', 'Target.FailedHealthChecks', {
      state: 'initial',
      at: clock.now() + 3000
    })
    clock.time += 8000
    elb.set(arn, { id: TARGETS[0] }, 'initial', undefined, { state: 'healthy', at: clock.now() + 4000 })
    await expect(lb.awaitIn(members[0], NEVER)).resolves.toBeUndefined()
  })

  it('a target already healthy is in at the first read: no hang', async () => {
    const { clock, elb, lb, members } = setUp()
    const start = clock.now()
    await lb.putBack(members[1], NEVER)
    await lb.awaitIn(members[1], NEVER)
    expect(clock.now() - start).toBeLessThan(1000)
    expect(elb.count('DescribeTargetHealth')).toBe(1)
  })

  it('a lasting API refusal fails the wait at once', async () => {
    const { clock, elb, lb, members } = setUp()
    await lb.putBack(members[0], NEVER)
    const denied = Object.assign(new Error('User is not authorized to perform: DescribeTargetHealth'), {
      name: 'AccessDenied',
      $fault: 'client'
    })
    elb.errors.set('DescribeTargetHealth', denied)
    const start = clock.now()
    await expect(lb.awaitIn(members[0], NEVER)).rejects.toThrow('User is not authorized')
    expect(clock.now() - start).toBeLessThan(1000)
  })
})

describe('aws-elbv2: several target groups', () => {
  it('each change goes to each group, and the waits cover them all', async () => {
    const groups = [fakeGroup('web', { delayMs: 5000 }), fakeGroup('api', { delayMs: 15_000 })]
    groups[1].arn = groups[1].arn.replace('0123456789abcdef', 'fedcba9876543210')
    const { clock, elb, lb, members } = setUp(groups)
    const start = clock.now()
    await lb.takeOut(members[0], NEVER)
    await lb.awaitOut(members[0], NEVER)
    // The slower group's delay, not the first one's.
    expect(clock.now() - start).toBeGreaterThanOrEqual(15_000)
    expect(elb.calls.filter((call) => call.action === 'DeregisterTargets').map((call) => call.arn)).toEqual(
      groups.map((group) => group.arn)
    )
    // A group done is read no more: api (15 s) is read about three times as often as web (5 s).
    const reads = (arn: string) => elb.calls.filter((c) => c.action === 'DescribeTargetHealth' && c.arn === arn).length
    expect(reads(groups[0].arn)).toBeLessThanOrEqual(7)
    expect(reads(groups[1].arn)).toBeGreaterThanOrEqual(15)
    await lb.putBack(members[0], NEVER)
    await lb.awaitIn(members[0], NEVER)
    expect(elb.calls.filter((call) => call.action === 'RegisterTargets').map((call) => call.arn)).toEqual(
      groups.map((group) => group.arn)
    )
    expect(await lb.inRotation(members[0])).toBe('in')
    // The groups' settings were read once for the run.
    expect(elb.count('DescribeTargetGroups')).toBe(1)
    expect(elb.count('DescribeTargetGroupAttributes')).toBe(2)
  })
})

describe('aws-elbv2: preflight (describe) and inRotation', () => {
  it("reads each host's state in every group, one call per group for all hosts", async () => {
    const { elb, lb, members, groups, log } = setUp()
    elb.set(groups[0].arn, { id: TARGETS[1] }, 'draining', 'Target.DeregistrationInProgress')
    await expect(lb.describe(members, NEVER)).resolves.toEqual([
      `web ${TARGETS[0]}: healthy`,
      `web ${TARGETS[1]}: draining (Target.DeregistrationInProgress)`
    ])
    expect(elb.count('DescribeTargetHealth')).toBe(1)
    expect(log.lines).toContain(
      'aws-elbv2: target group web: deregistration delay 20 s; health check every 5 s, healthy after 2, unhealthy after 2'
    )
  })

  it('refuses a target group attached to no load balancer, naming it, before any change', async () => {
    const { elb, lb, members } = setUp([fakeGroup('orphan', { loadBalancerArns: [] })])
    const failed = await lb.describe(members, NEVER).catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(PreflightError)
    expect((failed as PreflightError).failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^aws-elbv2: target group orphan is attached to no load balancer/),
      expect.stringMatching(/^aws-elbv2: target group orphan is attached to no load balancer/)
    ])
    await expect(lb.takeOut(members[0], NEVER)).rejects.toThrow(/attached to no load balancer/)
    expect(elb.count('DeregisterTargets')).toBe(0)
  })

  it('refuses a host whose target is not registered in a group, naming host, target and group', async () => {
    const { elb, lb, members, groups } = setUp()
    elb.set(groups[0].arn, { id: TARGETS[1] }, 'unused', 'Target.NotRegistered')
    const failed = (await lb.describe(members, NEVER).catch((error: unknown) => error)) as PreflightError
    expect(failed.message).toBe(
      'Preflight failed for 1 host(s); nothing was changed on any host:\n' +
        `- deploy@h2: its target ${TARGETS[1]} (aws-targets) is not registered in target group web; ` +
        'check aws-targets, or register it again if an earlier run left it out'
    )
  })

  it('inRotation: healthy is in, draining or initial out, an API error unknown', async () => {
    const { elb, lb, members, groups } = setUp()
    expect(await lb.inRotation(members[0])).toBe('in')
    elb.set(groups[0].arn, { id: TARGETS[0] }, 'initial', 'Elb.InitialHealthChecking')
    expect(await lb.inRotation(members[0])).toBe('out')
    elb.errors.set('DescribeTargetHealth', new Error('socket hang up'))
    expect(await lb.inRotation(members[0])).toBe('unknown')
  })
})
