// What preflight proves on the real fleet before any host leaves rotation: each host's health path
// (host 2's sshd has AllowTcpForwarding no, a common hardening rule), health-command's program,
// and that no machine is listed twice (a second entry reaching host 1 through a TCP relay).
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { startRelay, type Relay } from '../../test/fleet/relay.js'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, expectSucceeded, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic, type Observed } from '../../test/fleet/observe.js'
import { annotationsOf, runAction } from '../../test/run-action.js'

let fleet: Fleet
withFleet(3, 'rollout-preflight-', (started) => (fleet = started), { forwardingRefused: [1] })

const errorsOf = (observed: Observed) =>
  annotationsOf(observed.run.stdout)
    .filter((a) => a.level === 'error')
    .map((a) => a.message)
    .join('\n')

/** Nothing was touched: no host ever out of rotation, no step run, every host still on v1. */
async function expectUntouched(observed: Observed) {
  expect(observed.run.code).toBe(1)
  expect(observed.maxOutOfRotation).toBe(0)
  expectNoUserVisibleErrors(observed)
  for (const host of fleet.hosts) {
    expect(fleet.steps(host)).toEqual([])
    expect(await fleet.version(host)).toBe('v1')
  }
}

/** A directory of every program in /usr/bin but curl and wget: a login PATH that lacks both. */
function pathWithoutHttpClients(): string {
  const dir = join(fleet.ssh.dir, 'bin-without-http-clients')
  mkdirSync(dir, { recursive: true })
  for (const name of readdirSync('/usr/bin').filter((name) => !['curl', 'wget'].includes(name)))
    symlinkSync(join('/usr/bin', name), join(dir, name))
  return dir
}

let relay: Relay | undefined
afterAll(async () => {
  await relay?.close()
})

;(asRoot ? describe : describe.skip)('preflight on hosts where a later step could not work', () => {
  it('a host whose sshd refuses tunnels: the dry run says curl, and the rollout checks it with curl, 0 errors', async () => {
    await fleet.reset()
    const second = fleet.hosts[1]
    const dryRun = await runAction(fleet.inputs({ 'dry-run': 'true' }))
    expectSucceeded(dryRun)
    expect(dryRun.summary).toContain(`| ${second.entry} | ✅ |`)
    expect(dryRun.summary).toContain('| curl on the host (sshd refuses tunnels) |')
    expect(dryRun.summary).toContain(`SSH tunnel to ${fleet.hosts[0].address}:${fleet.appPort}`)
    const observed = await rollUnderTraffic(fleet, fleet.inputs())
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(observed.run.stdout).toContain(`[${second.entry}] its sshd refuses the SSH tunnel`)
    expect(observed.run.stdout).toContain(`[${second.entry}] healthy: HTTP 200`)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
  })

  it('without curl or wget there, the run fails at preflight naming the host and AllowTcpForwarding, 0 hosts out', async () => {
    await fleet.reset()
    const restore = fleet.ssh.beforeEveryLogin(`export PATH=${pathWithoutHttpClients()}`)
    try {
      const observed = await rollUnderTraffic(fleet, fleet.inputs())
      await expectUntouched(observed)
      const errors = errorsOf(observed)
      expect(errors).toContain(`- ${fleet.hosts[1].entry}: its sshd refuses the SSH tunnel`)
      expect(errors).toContain('AllowTcpForwarding')
      expect(errors).toContain('neither curl nor wget is on its PATH')
      expect(errors).not.toContain(fleet.hosts[0].entry)
    } finally {
      restore()
    }
  })

  it('a health-command whose program is not on a host fails at preflight, 0 hosts out', async () => {
    await fleet.reset()
    const { 'health-url': _url, ...inputs } = fleet.inputs()
    const observed = await rollUnderTraffic(fleet, { ...inputs, 'health-command': 'app-healthcheck --quick' })
    await expectUntouched(observed)
    expect(errorsOf(observed)).toContain("health-command's program app-healthcheck is not on the host's PATH")
  })

  it('a machine listed twice (its address, and a relay to it) is refused at preflight naming both entries', async () => {
    await fleet.reset()
    const [first] = fleet.hosts
    relay = await startRelay('127.0.0.1', first)
    const { port } = relay
    const alias = `${fleet.ssh.user}@127.0.0.1:${port}`
    const inputs = fleet.inputs()
    const observed = await rollUnderTraffic(fleet, {
      ...inputs,
      hosts: `${inputs.hosts}\n${alias}`,
      'known-hosts': `${inputs['known-hosts']}[127.0.0.1]:${port} ${first.hostPublicKey}\n`
    })
    await expectUntouched(observed)
    expect(errorsOf(observed)).toContain(
      `- ${alias}: the same machine as ${first.entry} (both show the host key ssh-ed25519 ${first.fingerprint})`
    )
  })
})
