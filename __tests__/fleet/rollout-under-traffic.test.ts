// The bundled action on a real fleet: sshd + nginx + app per host, HAProxy in front, live
// traffic counting every response. Zero user-visible errors is the claim; these tests count.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { APPCTL, startFleet, type Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic, userVisibleErrors, type Observed } from '../../test/fleet/observe.js'

function expectNoUserVisibleErrors(observed: Observed) {
  expect(userVisibleErrors(observed)).toEqual({ byStatus: {}, connectionErrors: {} })
  expect(observed.tally.requests).toBeGreaterThan(100)
  expect(observed.samples).toBeGreaterThan(20)
}

describe('4 hosts behind HAProxy', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet(4)
  })
  afterAll(async () => fleet?.close())

  it('rolls v1 → v2 one host at a time: 0 errors, at most 1 host out, every host on v2', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(fleet, fleet.inputs())
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(observed.tally.byVersion.v1).toBeGreaterThan(0)
    expect(observed.tally.byVersion.v2).toBeGreaterThan(0)
    expect(observed.maxOutOfRotation).toBe(1)
    expect(observed.outAtEnd).toEqual([])
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    expect(observed.run.outputs.result).toBe('success')
    expect(JSON.parse(observed.run.outputs['succeeded-hosts'])).toHaveLength(4)
    expect(observed.run.summary).toMatch(/^## ✅ Rollout succeeded/)
  })

  it('keeps a broken release on host 2 away from users: the run fails, host 2 out, hosts 3-4 untouched', async () => {
    await fleet.reset((_host, i) => [{ name: 'v1' }, { name: 'v2', flags: i === 1 ? '--never-healthy' : undefined }])
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'health-timeout': '3s' }))
    expect(observed.run.code).toBe(1)
    expectNoUserVisibleErrors(observed)
    const [first, second, third, fourth] = fleet.hosts
    expect(await fleet.version(first)).toBe('v2')
    expect(observed.outAtEnd).toEqual([second.name])
    expect(fleet.healthFilePresent(second)).toBe(false)
    for (const host of [third, fourth]) {
      expect(fleet.steps(host)).toEqual([])
      expect(await fleet.version(host)).toBe('v1')
    }
    expect(JSON.parse(observed.run.outputs['failed-hosts'])).toEqual([second.entry])
    expect(JSON.parse(observed.run.outputs['skipped-hosts'])).toEqual([third.entry, fourth.entry])
    expect(JSON.parse(observed.run.outputs.report)[1]).toMatchObject({ failedStep: 'health', rotation: 'out' })
  })

  it('rolls a broken host back to v1 and back into rotation when rollback-command is given', async () => {
    await fleet.reset((_host, i) => [{ name: 'v1' }, { name: 'v2', flags: i === 1 ? '--never-healthy' : undefined }])
    const rollback = `${APPCTL} stop && ${APPCTL} deploy v1 && ${APPCTL} start`
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'health-timeout': '3s', 'rollback-command': rollback, 'max-failed-hosts': '0' })
    )
    expect(observed.run.code).toBe(1)
    expectNoUserVisibleErrors(observed)
    const second = fleet.hosts[1]
    expect(await fleet.version(second)).toBe('v1')
    expect(observed.outAtEnd).toEqual([])
    expect(JSON.parse(observed.run.outputs.report)[1]).toMatchObject({ result: 'rolled-back', rotation: 'in' })
  })

  it("works the seed's way: appctl.sh offline/online/stop/start on every host", async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({
        'offline-command': `${APPCTL} offline`,
        'online-command': `${APPCTL} online`
      })
    )
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    for (const host of fleet.hosts) {
      expect(fleet.steps(host)).toEqual(['offline', 'stop', 'deploy v2', 'start', 'online'])
      expect(await fleet.version(host)).toBe('v2')
    }
  })

  it('the naive way, restarting apps without leaving the load balancer, shows errors in the same harness', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'offline-command': 'true', 'online-command': 'true', 'offline-wait': '0', 'online-wait': '0' })
    )
    expect(observed.run.code).toBe(0)
    expect(observed.tally.errors).toBeGreaterThan(0)
  })
})

describe('probes and drain on 4 hosts behind HAProxy', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet(4)
  })
  afterAll(async () => fleet?.close())
  const waited = (observed: Observed, step: string) =>
    JSON.parse(observed.run.outputs.report).map((h: { stepsMs: Record<string, number> }) => h.stepsMs[step])

  it('waits only until HAProxy itself reports each host out and back in: 0 errors', async () => {
    await fleet.reset()
    // Generous upper bounds: the probes, not the waits, decide when to go on.
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ ...fleet.probeInputs(), 'offline-wait': '10s', 'online-wait': '10s' })
    )
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBe(1)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    // HAProxy marks a host down (or up) on its 2nd check, 100-200 ms after the health file changed,
    // which the offline (online) command did up to a few tens of ms before its wait began.
    for (const step of ['offline-wait', 'online-wait']) {
      for (const ms of waited(observed, step)) {
        expect(ms).toBeGreaterThanOrEqual(50)
        expect(ms).toBeLessThan(2000)
      }
    }
  })

  it('an offline the probe never confirms: the host goes back online untouched, the run fails, 0 errors', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'offline-probe': 'exit 1', 'offline-wait': '1s', 'probe-interval': '100ms' })
    )
    expect(observed.run.code).toBe(1)
    expectNoUserVisibleErrors(observed)
    expect(JSON.parse(observed.run.outputs.report)[0]).toMatchObject({
      result: 'failed',
      rotation: 'in',
      failedStep: 'offline-wait',
      error: 'offline-probe did not confirm the host out of rotation after 1000 ms: exit code 1'
    })
    for (const host of fleet.hosts) {
      expect(fleet.steps(host)).toEqual([])
      expect(fleet.healthFilePresent(host)).toBe(true)
    }
    await fleet.waitForStates((states) => [...states.values()].every((status) => status === 'UP'))
  })

  /** A slow request (`slowMs` long) straight to host 1's nginx, in flight while host 1 is rolled; its status. */
  async function rollWithRequestInFlight(inputs: Record<string, string>, slowMs = 5000) {
    await fleet.reset((_host, i) => [{ name: 'v1', flags: i === 0 ? '--abrupt-stop' : undefined }, { name: 'v2' }])
    const [first] = fleet.hosts
    const slow = fetch(`http://${first.address}:${fleet.webPorts[0]}/slow?ms=${slowMs}`).then(
      (response) => response.status,
      (error: unknown) => String(error)
    )
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ hosts: first.entry, ...inputs }))
    return { observed, slowStatus: await slow }
  }

  it('without drain, an app that stops abruptly cuts the request in flight (the harness sees it)', async () => {
    // Long enough to be in flight at the stop however slowly a loaded machine gets there.
    const { observed, slowStatus } = await rollWithRequestInFlight({}, 30_000)
    expect(observed.run.code).toBe(0)
    expect(slowStatus).not.toBe(200)
  })

  it('with drain-timeout, the stop waits until the request in flight has finished', async () => {
    const { observed, slowStatus } = await rollWithRequestInFlight({
      'drain-timeout': '10s',
      'drain-port': String(fleet.webPorts[0])
    })
    expect(observed.run.code).toBe(0)
    expect(slowStatus).toBe(200)
    expectNoUserVisibleErrors(observed)
    expect(observed.run.stdout).toMatch(/connection\(s\) open on port/)
    expect(observed.run.stdout).not.toContain('Drain incomplete')
    const [drainMs] = waited(observed, 'drain')
    expect(drainMs).toBeGreaterThan(500)
    expect(drainMs).toBeLessThan(10_000)
  })
})

describe('6 hosts behind HAProxy, batch-size 1,50%', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet(6)
  })
  afterAll(async () => fleet?.close())

  it('keeps at most one batch out of rotation, with 0 errors', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'batch-size': '1,50%' }))
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBeGreaterThan(1)
    expect(observed.maxOutOfRotation).toBeLessThanOrEqual(3)
    expect(JSON.parse(observed.run.outputs.report).map((h: { batch: number }) => h.batch)).toEqual([1, 2, 2, 2, 3, 3])
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
  })
})
