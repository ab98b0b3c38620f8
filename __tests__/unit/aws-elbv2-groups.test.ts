// The aws-elbv2 adapter's logic on virtual time, through a fake ELBv2 API that counts its calls:
// several target groups, preflight (describe) and inRotation.
import { describe, expect, it } from '@jest/globals'
import { PreflightError } from '../../src/rollout/preflight.js'
import { arnOf, fakeGroup, NEVER, setUp, TARGETS } from '../../test/fakes/fake-elb.js'

describe('aws-elbv2: several target groups', () => {
  it('each change goes to each group, and the waits cover them all', async () => {
    const groups = [
      fakeGroup('web', { delayMs: 5000 }),
      fakeGroup('api', { delayMs: 15_000, arn: arnOf('api', 'fedcba9876543210') })
    ]
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
