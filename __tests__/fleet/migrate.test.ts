// migrate-command on the real fleet (sshd + nginx + app per host, HAProxy in front, live traffic),
// in release mode: it runs exactly once, after every host prepared and before the first host
// leaves rotation; a re-run skips it; a failure or a cancel during it leaves every host on the old
// release and in rotation. Each host writes what happened to its own order.log (hosts have their
// own mount namespaces: the test reads every host's disk and counts across them).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, expectSucceeded, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { releaseModeInputs } from '../../test/fleet/release-inputs.js'
import { rollUnderTraffic } from '../../test/fleet/observe.js'
import { HOST_VIEW, sshRun, type SshHost } from '../../test/fleet/ssh-hosts.js'

let fleet: Fleet
let scratch: string
withFleet(3, 'rollout-migrate-', (started, dir) => ((fleet = started), (scratch = dir)))

/** A line in the host's own order.log: `<what> <ns since the epoch> <more>`. */
const mark = (what: string, more = '') => `echo "${what} $(date +%s%N) ${more}" >> "$HOST_ROOT/order.log"`

/** Release `id`, every host's prepare, offline and the migration marked in its order.log. */
const inputs = (id: string, migrate: string, overrides: Record<string, string> = {}) =>
  releaseModeInputs(fleet, scratch, id, {
    'prepare-command': mark('prepare'),
    'offline-command': `${mark('offline')}; rm -f "$HOST_ROOT/status/nginx-status.html"`,
    'migrate-command': migrate,
    ...overrides
  })

/** Every host's order.log lines, as [host index, what, time in ns, rest]. */
function marks(): [number, string, bigint, string][] {
  return fleet.hosts.flatMap((host, i) => {
    const file = join(host.root, 'order.log')
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line): [number, string, bigint, string] => {
        const [what, at, ...rest] = line.split(' ')
        return [i, what, BigInt(at), rest.join(' ').trim()]
      })
  })
}

const currentOf = (host: SshHost) => sshRun(fleet.ssh, host, `readlink ${HOST_VIEW}/current`).trim().split('/').pop()
const releasesOn = (host: SshHost) => readdirSync(join(host.root, 'releases'))

async function resetFleet() {
  await fleet.reset()
  for (const host of fleet.hosts) rmSync(join(host.root, 'order.log'), { force: true })
}

/** Every host as before the run: on v1, serving it, in rotation, release `id` gone. */
async function expectUntouched(id: string) {
  for (const host of fleet.hosts) {
    expect(currentOf(host)).toBe('v1')
    expect(await fleet.version(host)).toBe('v1')
    expect(fleet.healthFilePresent(host)).toBe(true)
    expect(fleet.steps(host)).toEqual([])
    expect(releasesOn(host)).not.toContain(id)
  }
  expect(marks().filter(([, what]) => what === 'offline')).toEqual([])
}

;(asRoot ? describe : describe.skip)('migrate-command on 3 hosts behind HAProxy, in release mode', () => {
  it('runs exactly once, in the new release, after every prepare and before the first host leaves rotation; a re-run skips it', async () => {
    await resetFleet()
    const migrate = `${mark('migrate', '$(pwd) $ROLLOUT_RELEASE')}; echo migrated-for-the-summary`
    const observed = await rollUnderTraffic(fleet, inputs('m1', migrate))
    expectSucceeded(observed.run)
    expectNoUserVisibleErrors(observed)
    const seen = marks()
    const migrations = seen.filter(([, what]) => what === 'migrate')
    expect(migrations.map(([host, , , rest]) => [host, rest])).toEqual([[0, `${HOST_VIEW}/releases/m1 m1`]])
    const [, , migratedAt] = migrations[0]
    const times = (kind: string) => seen.filter(([, what]) => what === kind).map(([, , at]) => at)
    expect(times('prepare')).toHaveLength(3)
    expect(times('offline')).toHaveLength(3)
    for (const at of times('prepare')) expect(at < migratedAt).toBe(true)
    for (const at of times('offline')) expect(at > migratedAt).toBe(true)
    for (const host of fleet.hosts) expect(currentOf(host)).toBe('m1')
    expect(observed.run.summary).toMatch(/\| migrate-command \| [^|]+ \| ✅ passed \| \d+ \|/)
    expect(observed.run.summary).toContain('migrated-for-the-summary')
    const report = JSON.parse(observed.run.outputs.report) as { migration?: { result: string } }[]
    expect(report[0].migration?.result).toBe('passed')

    // The same release again: every host unchanged, the migration not run, and the log says where it passed.
    const again = await rollUnderTraffic(fleet, inputs('m1', migrate))
    expectSucceeded(again.run)
    expectNoUserVisibleErrors(again)
    expect(marks().filter(([, what]) => what === 'migrate')).toHaveLength(1)
    expect(again.run.stdout).toMatch(/migrate-command skipped: release m1's migration passed on \S+ at 20\d\d-/)
    expect(again.run.summary).toMatch(/\| migrate-command \| [^|]+ \| ⏭️ skipped \|/)
  })

  it('a failing migration leaves every host on the old release and in rotation, with no user-visible error', async () => {
    await resetFleet()
    const observed = await rollUnderTraffic(
      fleet,
      inputs('m2', `${mark('migrate')}; echo 'relation "users" already exists' >&2; exit 3`)
    )
    expect(observed.run.code).toBe(1)
    expect(observed.run.outputs.result).toBe('failure')
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBe(0)
    expect(marks().filter(([, what]) => what === 'migrate')).toHaveLength(1)
    await expectUntouched('m2')
    expect(observed.run.stdout).toContain(
      'migrate-command on ' // the step's error names the host and what was undone
    )
    expect(observed.run.stdout).toContain('failed (exited with code 3); no host left rotation')
    expect(observed.run.summary).toMatch(/❌ failed/)
    expect(observed.run.summary).toContain('relation &quot;users&quot; already exists')
  })

  it('a cancel during it ends it and leaves the fleet untouched', async () => {
    await resetFleet()
    const observed = await rollUnderTraffic(fleet, inputs('m3', `${mark('migrate')}; echo migrating-now; sleep 60`), {
      interruptWhen: /migrating-now/
    })
    expect(observed.run.outputs.result).toBe('cancelled')
    expect(observed.run.exitAfterInterruptMs).toBeLessThan(10_000)
    expectNoUserVisibleErrors(observed)
    await expectUntouched('m3')
    for (const host of fleet.hosts)
      expect(sshRun(fleet.ssh, host, 'pgrep -f "sleep [6]0" || echo none').trim()).toBe('none')
  })
})
