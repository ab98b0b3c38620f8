// Things going wrong on a real fleet under traffic: the run's result, each host's version and
// rotation state, what the user is told, and that traffic saw no error where none is promised.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { setTimeout as pause } from 'node:timers/promises'
import { APPCTL, startFleet, type Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic, userVisibleErrors, type Observed } from '../../test/fleet/observe.js'
import { annotationsOf } from '../../test/run-action.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(4)
})
afterAll(async () => fleet?.close())
beforeEach(async () => {
  for (const host of fleet.hosts) await host.startSshd().catch(() => undefined) // a previous test may have stopped one
})

const noErrors = (observed: Observed) =>
  expect(userVisibleErrors(observed)).toEqual({ byStatus: {}, connectionErrors: {} })
const errorsOf = (observed: Observed) => annotationsOf(observed.run.stdout).filter((a) => a.level === 'error')
const report = (observed: Observed) => JSON.parse(observed.run.outputs.report ?? '[]') as Record<string, unknown>[]

async function expectUntouched(indexes: number[]) {
  for (const i of indexes) {
    expect(fleet.steps(fleet.hosts[i])).toEqual([])
    expect(await fleet.version(fleet.hosts[i])).toBe('v1')
    expect(fleet.healthFilePresent(fleet.hosts[i])).toBe(true)
  }
}

describe('faults on a 4-host fleet under traffic', () => {
  it('a host unreachable at preflight: nothing is touched anywhere, and the error names it', async () => {
    await fleet.reset()
    const down = fleet.hosts[2]
    await down.stopSshd()
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'connect-attempts': '2', 'connect-timeout': '2s' }))
    expect(observed.run.code).toBe(1)
    expect(errorsOf(observed).map((a) => a.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Preflight failed for 1 host\\(s\\); nothing was changed on any host:\\n- ${down.entry.replace(/[.[\]]/g, '\\$&')}: cannot connect to`
        )
      )
    ])
    await expectUntouched([0, 1, 2, 3])
    noErrors(observed)
  })

  it('sshd killed while the stop command runs: that host fails and stays out, the rollout stops', async () => {
    await fleet.reset()
    const victim = fleet.hosts[1]
    let killed = false
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'stop-command': `echo stopping; sleep 2; ${APPCTL} stop`, 'connect-attempts': '1' }),
      {
        onStdout: (chunk) => {
          if (!killed && chunk.includes(`[${victim.entry}] stopping`)) {
            killed = true
            void victim.crash()
          }
        }
      }
    )
    expect(killed).toBe(true)
    expect(observed.run.code).toBe(1)
    expect(report(observed)[1]).toMatchObject({ result: 'failed', failedStep: 'stop', rotation: 'out' })
    // Killed with output unread, sshd's end resets the connection; otherwise it just closes.
    const entry = victim.entry.replace(/[.[\]]/g, '\\$&')
    expect(errorsOf(observed)[0]).toEqual({
      level: 'error',
      title: `Rollout failed: ${victim.entry} (stop)`,
      message: expect.stringMatching(
        new RegExp(
          `^${entry} failed at stop: connection lost during \`stop\` \\((closed without an error|read ECONNRESET)\\); ` +
            `could not reconnect to look at it: cannot connect to ${entry}: connect ECONNREFUSED [\\d.:]+; it was left out of rotation$`
        )
      )
    })
    expect(fleet.healthFilePresent(victim)).toBe(false)
    expect(observed.outAtEnd).toEqual([victim.name])
    expect(await fleet.version(fleet.hosts[0])).toBe('v2')
    await expectUntouched([2, 3])
    noErrors(observed)
    // The command itself outlives the lost connection (nobody is left to end it); let it finish
    // before the next test lays out the host again.
    for (let waited = 0; !fleet.steps(victim).includes('stop') && waited < 5000; waited += 50) await pause(50)
    expect(fleet.steps(victim)).toEqual(['stop'])
  })

  it('a command that hangs: command-timeout ends it, the host fails and stays out', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'start-command': 'sleep 600', 'command-timeout': '1s' })
    )
    expect(observed.run.code).toBe(1)
    expect(report(observed)[0]).toMatchObject({
      failedStep: 'start',
      error: 'timed out after 1000 ms',
      rotation: 'out'
    })
    expect(observed.outAtEnd).toEqual([fleet.hosts[0].name])
    await expectUntouched([1, 2, 3])
    noErrors(observed)
  })

  it('an app healthy only after 3 s passes with health-timeout 10s', async () => {
    await fleet.reset(() => [{ name: 'v1' }, { name: 'v2', flags: '--healthy-after-ms 3000' }])
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ hosts: fleet.hosts[0].entry, 'health-timeout': '10s' })
    )
    expect(observed.run.code).toBe(0)
    expect(report(observed)[0].stepsMs).toMatchObject({ health: expect.any(Number) })
    expect((report(observed)[0].stepsMs as Record<string, number>).health).toBeGreaterThanOrEqual(2900)
    noErrors(observed)
  })

  it('and fails, staying out, with health-timeout 1s', async () => {
    await fleet.reset(() => [{ name: 'v1' }, { name: 'v2', flags: '--healthy-after-ms 3000' }])
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'health-timeout': '1s' }))
    expect(observed.run.code).toBe(1)
    expect(report(observed)[0]).toMatchObject({ failedStep: 'health', rotation: 'out' })
    expect(report(observed)[0].error).toMatch(/^not healthy after 1000 ms: HTTP 503/)
    expect(observed.outAtEnd).toEqual([fleet.hosts[0].name])
    noErrors(observed)
  })

  it('an old version answering 200 fails the health-body check', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ env: 'RELEASE=v1', 'health-timeout': '1s' }))
    expect(observed.run.code).toBe(1)
    expect(report(observed)[0].error).toMatch(/body did not match \/version=v2\/ \(got 'version=v1 '\)/)
    expect(fleet.healthFilePresent(fleet.hosts[0])).toBe(false)
    noErrors(observed)
  })

  it('a rollback that itself fails leaves the host out', async () => {
    await fleet.reset((_host, i) => [{ name: 'v1' }, { name: 'v2', flags: i === 0 ? '--never-healthy' : undefined }])
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ 'health-timeout': '1s', 'rollback-command': 'exit 3' })
    )
    expect(observed.run.code).toBe(1)
    expect(report(observed)[0]).toMatchObject({ result: 'failed', rotation: 'out' })
    expect(report(observed)[0].error).toMatch(/; rollback failed too: exited with code 3$/)
    expect(observed.outAtEnd).toEqual([fleet.hosts[0].name])
    noErrors(observed)
  })

  it('SIGINT during host 2 health check: exits within 10 s, cancelled, nothing unsafe in rotation', async () => {
    await fleet.reset((_host, i) => [
      { name: 'v1' },
      { name: 'v2', flags: i === 1 ? '--healthy-after-ms 20000' : undefined }
    ])
    const [first, second] = fleet.hosts
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'health-timeout': '30s' }), {
      interruptWhen: new RegExp(`\\[${second.entry.replace(/[.[\]]/g, '\\$&')}\\] not healthy yet`)
    })
    expect(observed.run.exitAfterInterruptMs).toBeLessThan(10_000)
    expect(observed.run.code).toBe(1)
    expect(observed.run.outputs.result).toBe('cancelled')
    expect(report(observed).map((h) => [h.result, h.rotation])).toEqual([
      ['succeeded', 'in'],
      ['cancelled', 'out'],
      // Not reached, and nothing measures their rotation (offline-command, no online-probe): not claimed `in`.
      ['skipped', 'unknown'],
      ['skipped', 'unknown']
    ])
    expect(await fleet.version(first)).toBe('v2')
    expect(fleet.healthFilePresent(first)).toBe(true)
    expect(fleet.healthFilePresent(second)).toBe(false)
    expect(observed.outAtEnd).toEqual([second.name])
    await expectUntouched([2, 3])
    expect(observed.run.summary).toMatch(/^## ⚠️ Rollout cancelled/)
    noErrors(observed)
  })

  it('a connection that drops between hosts is re-established without failing the run', async () => {
    await fleet.reset()
    const third = fleet.hosts[2]
    let dropped = false
    const observed = await rollUnderTraffic(fleet, fleet.inputs(), {
      onStdout: (chunk) => {
        if (!dropped && chunk.includes('::group::Batch 2/4')) {
          dropped = true
          third.dropConnections()
        }
      }
    })
    expect(dropped).toBe(true)
    expect(observed.run.code).toBe(0)
    expect(observed.run.stdout).toMatch(
      new RegExp(
        `\\[${third.entry.replace(/[.[\]]/g, '\\$&')}\\] the SSH connection was lost \\((closed without an error|read ECONNRESET)\\); reconnecting`
      )
    )
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    noErrors(observed)
  })
})
