// The network on a bad day, on a real fleet under traffic: a TCP relay between the action and one
// host's sshd resets every connection or silently drops every packet. The run never crashes: a
// connection lost while its host waits is opened again and the run goes on; one lost in the middle
// of a command leaves the host looked at again and handled as a failure, and the run ends as any
// run does, with its outputs, its summary and every lock given back.
import { existsSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, withFleet } from '../../test/fleet-suite.js'
import { APPCTL, type Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic, type Observed } from '../../test/fleet/observe.js'
import { startRelay, type Relay } from '../../test/fleet/relay.js'
import { HOST_VIEW, type SshHost } from '../../test/fleet/ssh-hosts.js'
import { annotationsOf } from '../../test/run-action.js'

let fleet: Fleet
withFleet(4, 'connection-faults-', (started) => (fleet = started))

/** The hosts input and known-hosts with host `index` reached through `relay`: its entry there. */
function throughRelay(index: number, relay: Relay): { inputs: Record<string, string>; entry: string } {
  const victim = fleet.hosts[index]
  const entry = `${fleet.ssh.user}@${relay.address}:${relay.port}`
  const hosts = fleet.hosts.map((host, i) => (i === index ? entry : host.entry))
  const knownHosts = `${fleet.ssh.knownHosts()}[${relay.address}]:${relay.port} ${victim.hostPublicKey}\n`
  return { inputs: { hosts: hosts.join('\n'), 'known-hosts': knownHosts }, entry }
}

/** Runs with host `index` behind a relay; `onLog` sees the action's stdout so far and may act on the relay. */
async function withRelay(
  index: number,
  inputs: Record<string, string>,
  onLog: (stdout: string, relay: Relay, entry: string) => void
): Promise<{ observed: Observed; entry: string }> {
  const victim = fleet.hosts[index]
  const relay = await startRelay(victim.address, victim)
  try {
    const through = throughRelay(index, relay)
    let stdout = ''
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ ...inputs, ...through.inputs }), {
      timeoutMs: 150_000,
      onStdout: (chunk) => onLog((stdout += chunk), relay, through.entry)
    })
    return { observed, entry: through.entry }
  } finally {
    await relay.close()
  }
}

const escaped = (text: string) => text.replace(/[.[\]]/g, '\\$&')
const report = (observed: Observed) => JSON.parse(observed.run.outputs.report ?? '[]') as Record<string, unknown>[]
const annotations = (observed: Observed, level: string) =>
  annotationsOf(observed.run.stdout).filter((a) => a.level === level)
const lockLeft = (host: SshHost) => existsSync(`${host.root}.home/.rolling-deploy.lock`)

/** The run ended as runs end: its own exit status, outputs and summary, and no lock left anywhere. */
function endedNormally(observed: Observed, code: number) {
  expect(observed.run.stderr).not.toMatch(/Unhandled 'error' event|ECONNRESET|Keepalive timeout/)
  expect(observed.run.signal).toBeNull()
  expect(observed.run.code).toBe(code)
  expect(observed.run.outputs.result).toBe(code === 0 ? 'success' : 'failure')
  expect(observed.run.summary).not.toBe('')
  expect(fleet.hosts.filter(lockLeft).map((host) => host.name)).toEqual([])
}

async function expectUntouched(indexes: number[]) {
  for (const i of indexes) {
    expect(fleet.steps(fleet.hosts[i])).toEqual([])
    expect(await fleet.version(fleet.hosts[i])).toBe('v1')
    expect(fleet.healthFilePresent(fleet.hosts[i])).toBe(true)
  }
}

// The health file instead of the fleet's offline/online commands: the rotation a host is found in
// after a lost connection is then measured on the host.
const HEALTH_FILE = {
  'offline-command': '',
  'online-command': '',
  'health-file': `${HOST_VIEW}/status/nginx-status.html`
}

// On a 4-host fleet (root only: it starts real sshd, nginx and HAProxy).
;(asRoot ? describe : describe.skip)('one host of 4 behind a relay that resets or drops its connections', () => {
  it('a reset of a waiting host while host 1 is in its health check: reconnected, the run succeeds', async () => {
    await fleet.reset((_host, i) => [{ name: 'v1' }, { name: 'v2', flags: i === 0 ? '--healthy-after-ms 1500' : '' }])
    let reset = false
    const first = fleet.hosts[0].entry
    const { observed, entry } = await withRelay(2, {}, (stdout, relay) => {
      if (!reset && stdout.includes(`[${first}] not healthy yet`)) {
        reset = true
        relay.reset()
      }
    })
    expect(reset).toBe(true)
    endedNormally(observed, 0)
    expect(observed.run.stdout).toMatch(
      new RegExp(`\\[${escaped(entry)}\\] the SSH connection was lost \\(read ECONNRESET\\); reconnecting`)
    )
    expect(annotations(observed, 'error')).toEqual([])
    expect(annotations(observed, 'warning')).toEqual([])
    for (const host of fleet.hosts) {
      expect(await fleet.version(host)).toBe('v2')
      expect(fleet.healthFilePresent(host)).toBe(true)
    }
    expect(observed.outAtEnd).toEqual([])
    expectNoUserVisibleErrors(observed)
  })

  it('a reset of the host in flight during its stop command: looked at again, failed and left out, the run ends normally', async () => {
    await fleet.reset()
    const victim = fleet.hosts[1]
    let reset = false
    const { observed, entry } = await withRelay(
      1,
      { ...HEALTH_FILE, 'stop-command': `echo stopping; sleep 2; ${APPCTL} stop` },
      (stdout, relay, entry) => {
        if (!reset && stdout.includes(`[${entry}] stopping`)) {
          reset = true
          relay.reset()
        }
      }
    )
    expect(reset).toBe(true)
    endedNormally(observed, 1)
    expect(report(observed)[1]).toMatchObject({ result: 'failed', failedStep: 'stop', rotation: 'out' })
    expect(report(observed)[1].error).toMatch(
      /^connection lost during `stop` \(read ECONNRESET\); reconnected: its command ended there; out of rotation, not healthy \(.+\)$/
    )
    expect(annotations(observed, 'error')[0]).toMatchObject({ title: `Rollout failed: ${entry} (stop)` })
    expect(fleet.healthFilePresent(victim)).toBe(false)
    expect(await fleet.version(victim)).toBeUndefined() // looked at once its stop, which ran on, was over
    expect(observed.outAtEnd).toEqual([victim.name])
    expect(await fleet.version(fleet.hosts[0])).toBe('v2')
    await expectUntouched([2, 3])
    expectNoUserVisibleErrors(observed)
  })

  it('a 45 s partition of the host in flight: found within 30 s by keepalives, handled, the run ends normally', async () => {
    await fleet.reset()
    const victim = fleet.hosts[1]
    let partitionedAt: number | undefined
    let noticedAt: number | undefined
    const { observed, entry } = await withRelay(
      1,
      { ...HEALTH_FILE, 'stop-command': `echo stopping; sleep 1; ${APPCTL} stop` },
      (stdout, relay, entry) => {
        if (partitionedAt === undefined && stdout.includes(`[${entry}] stopping`)) {
          partitionedAt = Date.now()
          relay.blackhole()
          setTimeout(() => relay.heal(), 45_000)
        }
        if (noticedAt === undefined && stdout.includes(`[${entry}] the SSH connection was lost (Keepalive timeout)`))
          noticedAt = Date.now()
      }
    )
    expect(partitionedAt).toBeDefined()
    expect((noticedAt ?? Infinity) - (partitionedAt ?? 0)).toBeLessThan(30_000)
    endedNormally(observed, 1)
    expect(report(observed)[1]).toMatchObject({ result: 'failed', failedStep: 'stop', rotation: 'out' })
    expect(report(observed)[1].error).toMatch(
      /^connection lost during `stop` \(Keepalive timeout\); reconnected: its command ended there; out of rotation, not healthy \(.+\)$/
    )
    expect(annotations(observed, 'error')[0]).toMatchObject({ title: `Rollout failed: ${entry} (stop)` })
    expect(fleet.healthFilePresent(victim)).toBe(false)
    expect(await fleet.version(victim)).toBeUndefined() // its stop ran to its end on the host meanwhile
    await expectUntouched([2, 3])
    expectNoUserVisibleErrors(observed)
  }, 180_000)
})
