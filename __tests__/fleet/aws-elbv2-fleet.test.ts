// The whole action (dist/index.js) with load-balancer: aws-elbv2 on the real fleet, its target group
// the ELBv2 stand-in's, which health-checks each host's real app; traffic goes through the stand-in's
// listener. The action finds the stand-in by environment only, as it would find AWS.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { journalFile } from '../../src/ssh/journal-scripts.js'
import { setTimeout as pause } from 'node:timers/promises'
import { asRoot, withFleet } from '../../test/fleet-suite.js'
import { startElbv2Fleet, STAND_IN_CREDENTIALS, type Elbv2Fleet } from '../../test/fleet/elbv2-fleet.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { startTraffic, type Tally } from '../../test/fleet/traffic.js'
import { annotationsOf, runAction, type ActionRun } from '../../test/run-action.js'

let fleet: Fleet
let aws: Elbv2Fleet
withFleet(3, 'rollout-aws-', (started) => (fleet = started))
beforeAll(async () => {
  if (asRoot) aws = await startElbv2Fleet(fleet)
})
afterAll(async () => aws?.close())

/** The action run under traffic through the stand-in's listener; the API requests it made. */
async function rollUnderTraffic(
  inputs: Record<string, string>,
  env = aws.env
): Promise<{ run: ActionRun; tally: Tally; from: number }> {
  const from = aws.standIn.requests.length
  const traffic = startTraffic(aws.listener.port, 8)
  await pause(300)
  const run = await runAction(inputs, { env })
  await pause(500)
  return { run, tally: await traffic.stop(), from }
}

const errorsOf = (run: ActionRun) => annotationsOf(run.stdout).filter((a) => a.level === 'error')
const noUserErrors = (tally: Tally) => {
  expect({ connectionErrors: tally.connectionErrors, statuses: Object.keys(tally.byStatus) }).toEqual({
    connectionErrors: {},
    statuses: ['200']
  })
  expect(tally.requests).toBeGreaterThan(100)
}
const movesOf = (target: string, since: number) =>
  aws.standIn.transitions.filter((t) => t.target === target && t.at >= since).map((t) => `${t.from}→${t.to}`)

;(asRoot ? describe : describe.skip)('load-balancer: aws-elbv2 on the real fleet (ELBv2 stand-in)', () => {
  it('rolls every host out of the target group and back, 0 user-visible errors, counting API calls per host', async () => {
    await fleet.reset()
    await aws.reset()
    const started = Date.now()
    const { run, tally, from } = await rollUnderTraffic(aws.inputs())
    expect(errorsOf(run)).toEqual([])
    expect(run.code).toBe(0)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    noUserErrors(tally)
    expect(tally.byVersion.v2).toBeGreaterThan(0)
    for (const [i] of fleet.hosts.entries())
      expect(movesOf(aws.targetOf(i), started)).toEqual([
        'healthy→draining',
        'draining→unused',
        'unused→initial',
        'initial→healthy'
      ])
    const counts = aws.countsSince(from)
    const perHost = counts.DescribeTargetHealth / fleet.hosts.length
    expect(counts).toMatchObject({
      DescribeTargetGroups: 1,
      DescribeTargetGroupAttributes: 1,
      RegisterTargets: 3,
      DeregisterTargets: 3
    })
    expect(perHost).toBeLessThan(40)
    // Never a whole group's health: only the host's own target.
    expect(aws.standIn.requests.slice(from).filter((r) => r.action === 'DescribeTargetHealth' && !r.targets)).toEqual(
      []
    )
    expect(run.stdout).toContain('(deregistration_delay.timeout_seconds); waiting up to 31 s for unused')
    expect(run.stdout + run.stderr).not.toContain(STAND_IN_CREDENTIALS.secretAccessKey)
    expect(aws.standIn.refused).toEqual([])
  })

  it('a release the target group finds unhealthy fails at once, long before the bound, and no user sees it', async () => {
    await fleet.reset(() => [{ name: 'v1' }, { name: 'v2' }, { name: 'v3', flags: '--error-every 1' }])
    await aws.reset()
    // /health passes (the action's check), every page answers 500 (the target group's check on /).
    const inputs = aws.inputs({ env: 'RELEASE=v3', 'health-body': 'version=v3', 'online-wait': '2m' })
    const started = Date.now()
    const { run, tally } = await rollUnderTraffic(inputs)
    expect(run.code).toBe(1)
    const first = fleet.hosts[0]
    expect(errorsOf(run)[0]?.message).toMatch(
      new RegExp(
        `is unhealthy \\(Target\\.ResponseCodeMismatch\\) in target group fleet: Health checks failed with these codes: \\[500\\]`
      )
    )
    // The unhealthy threshold (2 checks, 1 s apart) after registering, not online-wait's 2 minutes.
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(movesOf(aws.targetOf(0), started)).toContain('initial→unhealthy')
    for (const host of fleet.hosts.slice(1)) expect(await fleet.version(host)).toBe('v1')
    expect(fleet.steps(first)).toContain('start')
    noUserErrors(tally)
  })

  it('dry run: reads each host in the target group through the port, changes nothing', async () => {
    await fleet.reset()
    await aws.reset()
    const from = aws.standIn.requests.length
    const run = await runAction(aws.inputs({ 'dry-run': 'true' }), { env: aws.env })
    expect(run.code).toBe(0)
    expect(run.summary).toContain('Load balancer (aws-elbv2)')
    for (const [i] of fleet.hosts.entries()) expect(run.summary).toContain(`fleet ${aws.targetOf(i)}: healthy`)
    expect(aws.countsSince(from)).toEqual({
      DescribeTargetGroups: 1,
      DescribeTargetGroupAttributes: 1,
      DescribeTargetHealth: 1
    })
  })

  it('a host whose target is not registered fails preflight, naming it, and nothing changes', async () => {
    await fleet.reset()
    await aws.reset()
    const model = aws.standIn.groups[0]
    const [id, port] = aws.targetOf(2).split(':')
    model.deregister({ id, port: Number(port) })
    await pause(1500) // the 1 s drain
    const from = aws.standIn.requests.length
    const run = await runAction(aws.inputs(), { env: aws.env })
    expect(run.code).toBe(1)
    expect(errorsOf(run)[0]?.message).toContain(
      `- ${fleet.hosts[2].entry}: its target ${aws.targetOf(2)} (aws-targets) is not registered in target group fleet`
    )
    expect(aws.countsSince(from)).toEqual({
      DescribeTargetGroups: 1,
      DescribeTargetGroupAttributes: 1,
      DescribeTargetHealth: 1
    })
    for (const host of fleet.hosts) expect(fleet.steps(host)).toEqual([])
  })

  it('a runner killed (kill -9) after a host was deregistered: the re-run accepts it, registers it again, 0 errors', async () => {
    await fleet.reset()
    await aws.reset()
    const victim = fleet.hosts[0]
    const env = (attempt: number) => ({ ...aws.env, GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: String(attempt) })
    // The journal is written before each step: `offline-wait` there means DeregisterTargets is done.
    const journal = join(`${victim.root}.home`, '.rolling-deploy.lock.journal', journalFile(victim.entry))
    const step = () => (existsSync(journal) ? (JSON.parse(readFileSync(journal, 'utf8')) as { step: string }).step : '')
    let pid: number | undefined
    const watching = (async () => {
      for (let waited = 0; waited < 60_000 && step() !== 'offline-wait'; waited += 5) await pause(5)
      if (pid !== undefined) process.kill(pid, 'SIGKILL')
    })()
    const killed = await runAction(aws.inputs(), { env: env(1), onSpawn: (spawned) => (pid = spawned) })
    await watching
    expect({ signal: killed.signal, step: step() }).toEqual({ signal: 'SIGKILL', step: 'offline-wait' })
    for (let waited = 0; waited < 10_000 && aws.stateOf(0) !== 'unused'; waited += 100) await pause(100)
    expect(aws.stateOf(0)).toBe('unused')
    const { run, tally } = await rollUnderTraffic(aws.inputs(), env(2))
    expect(errorsOf(run)).toEqual([])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`${victim.entry}: left by run`)
    noUserErrors(tally)
    for (const [i, host] of fleet.hosts.entries()) {
      expect(await fleet.version(host)).toBe('v2')
      expect(aws.stateOf(i)).toBe('healthy')
    }
  })
})
