// The aws-elbv2 adapter's logic on virtual time, through a fake ELBv2 API that counts its calls:
// taking a host out and putting it back.
import { describe, expect, it } from '@jest/globals'
import { MARGIN_MS } from '../../src/load-balancer/aws-elbv2.js'
import { fakeGroup, NEVER, setUp, TARGETS } from '../../test/fakes/fake-elb.js'

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

  it('a target left registered and unhealthy gets its healthy threshold to recover, then the bound ends it', async () => {
    const groups = [fakeGroup('web', { healthyThreshold: 5, unhealthyThreshold: 2, healthCheckIntervalMs: 30_000 })]
    const { clock, elb, lb, members } = setUp(groups, { 'online-wait': '8s' })
    const arn = groups[0].arn
    // A rolled-back host: still unhealthy from the broken release; healthy after 5 checks × 30 s.
    elb.set(arn, { id: TARGETS[0] }, 'unhealthy', 'Target.ResponseCodeMismatch', {
      state: 'healthy',
      at: clock.now() + 150_000
    })
    const start = clock.now()
    await lb.putBack(members[0], NEVER)
    await lb.awaitIn(members[0], NEVER)
    expect(clock.now() - start).toBeGreaterThanOrEqual(150_000)
    // One that never recovers: max(online-wait, 5 × 30 s + margin).
    elb.set(arn, { id: TARGETS[1] }, 'unhealthy', 'Target.Timeout')
    const again = clock.now()
    await lb.putBack(members[1], NEVER)
    await expect(lb.awaitIn(members[1], NEVER)).rejects.toThrow(
      `${TARGETS[1]} was not healthy in every target group after ${150_000 + MARGIN_MS} ms: web: unhealthy (Target.Timeout)`
    )
    expect(clock.now() - again).toBeGreaterThanOrEqual(150_000 + MARGIN_MS)
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
