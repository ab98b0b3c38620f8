// The capacity floor and the judged canary on the real fleet (sshd + nginx + app per host, HAProxy
// in front, live traffic). The floor reads HAProxy through online-probe; the canary's analysis
// reads HAProxy's per-server 5xx counters, as a user's script would.
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, expectSucceeded, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { adminCommand, outOfRotation } from '../../test/fleet/haproxy.js'
import { rollUnderTraffic } from '../../test/fleet/observe.js'
import { releaseModeInputs } from '../../test/fleet/release-inputs.js'
import { HOST_VIEW, sshRun, type SshHost } from '../../test/fleet/ssh-hosts.js'
import { runAction } from '../../test/run-action.js'

let fleet: Fleet
let scratch: string
withFleet(4, 'rollout-guards-', (started, dir) => ((fleet = started), (scratch = dir)))

const healthFile = (host: SshHost) => join(host.root, 'status', 'nginx-status.html')

/** Takes `host` out of HAProxy by hand (its health file removed), as an operator would. */
async function takeOut(host: SshHost) {
  rmSync(healthFile(host))
  await fleet.waitForStates((states) => outOfRotation(states.get(host.name) ?? 'UP'))
}

/**
 * The analysis: the 5xx HAProxy counted for the updated hosts since its counters were cleared,
 * found by address (`show servers state`) and read from `show stat`. Exit 0 when there are none.
 */
function fiveHundredsAnalysis(): string {
  const socket = fleet.lb.socket
  return [
    'e=0',
    'for h in $ROLLOUT_UPDATED_HOSTS; do',
    '  a=${h#*@}; a=${a%:*}',
    `  n=$(echo 'show servers state app' | socat stdio ${socket} | awk -v a="$a" '$5 == a { print $4 }')`,
    `  c=$(echo 'show stat' | socat stdio ${socket} | awk -F, -v n="$n" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "hrsp_5xx") k = i } $1 == "app" && $2 == n { print $k }')`,
    '  e=$((e + c))',
    'done',
    'echo "5xx from $ROLLOUT_UPDATED_HOSTS: $e"',
    '[ "$e" -eq 0 ]'
  ].join('\n')
}

const currentOf = (host: SshHost) => sshRun(fleet.ssh, host, `readlink ${HOST_VIEW}/current`).trim().split('/').pop()

/** Every host on release `id` (release mode), then a clean slate: steps.log empty, HAProxy's counters cleared. */
async function startFrom(id: string) {
  await fleet.reset()
  const first = await runAction(releaseModeInputs(fleet, scratch, id))
  expect(first.code).toBe(0)
  for (const host of fleet.hosts) writeFileSync(join(host.root, 'steps.log'), '')
  await fleet.waitForStates((states) => [...states.values()].every((status) => status === 'UP'))
  await adminCommand(fleet.lb.socket, 'clear counters all')
}

;(asRoot ? describe : describe.skip)('guards on 4 hosts behind HAProxy, under traffic', () => {
  it('capacity floor: with host 4 out by hand, the run fails before host 1 leaves rotation, naming host 4', async () => {
    await fleet.reset()
    const four = fleet.hosts[3]
    await takeOut(four)
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ ...fleet.probeInputs(), 'min-in-rotation': '3' }))
    expect(observed.run.code).toBe(1)
    expect(observed.run.stdout).toMatch(
      new RegExp(
        `taking batch 1 \\(${fleet.hosts[0].entry}\\) out would leave fewer than min-in-rotation \\(3\\).*out: ${four.entry}`
      )
    )
    for (const host of fleet.hosts) expect(fleet.steps(host)).toEqual([]) // nothing touched
    expect(fleet.hosts.slice(0, 3).every((host) => fleet.healthFilePresent(host))).toBe(true)
    expect(JSON.parse(observed.run.outputs['skipped-hosts'])).toEqual(fleet.hosts.map((host) => host.entry))
    expect(observed.run.outputs.result).toBe('failure')
    expectNoUserVisibleErrors(observed)
  })

  it('capacity floor: with capacity-wait, the run waits for host 4 to come back, then rolls every host', async () => {
    await fleet.reset()
    const four = fleet.hosts[3]
    await takeOut(four)
    // Host 4 comes back once the run says it is waiting for it (a person ending a maintenance).
    let seen = ''
    let restoredAt = 0
    const observed = await rollUnderTraffic(
      fleet,
      fleet.inputs({ ...fleet.probeInputs(), 'min-in-rotation': '3', 'capacity-wait': '30s' }),
      {
        onStdout: (chunk) => {
          seen += chunk
          if (restoredAt === 0 && seen.includes('Waiting up to 30000 ms for capacity')) {
            writeFileSync(healthFile(four), '')
            restoredAt = Date.now()
          }
        }
      }
    )
    expectSucceeded(observed.run)
    expect(restoredAt).toBeGreaterThan(0)
    expect(observed.run.stdout).toMatch(/Waiting up to 30000 ms for capacity: 2 of 3 other host\(s\) in rotation/)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    expect(observed.maxOutOfRotation).toBe(1) // host 4 until it came back, then one host at a time
    expectNoUserVisibleErrors(observed)
  })

  const canary = (id: string, appFlags?: string) =>
    releaseModeInputs(
      fleet,
      scratch,
      id,
      {
        'batch-size': '1,100%',
        'bake-time': '3s',
        'analysis-command': fiveHundredsAnalysis(),
        'rollback-scope': 'fleet'
      },
      appFlags
    )

  it('canary judged bad: fails after the bake, the canary back on the old release, hosts 2-4 never touched', async () => {
    await startFrom('c1')
    // c2 passes the health check and answers 500 to one page in five.
    const observed = await rollUnderTraffic(fleet, canary('c2', '--error-every 5'))
    expect(observed.run.code).toBe(1)
    expect(observed.tally.byStatus['500']).toBeGreaterThan(0) // users of the canary saw them: the analysis did too
    const [first, ...rest] = fleet.hosts
    expect(currentOf(first)).toBe('c1')
    expect(await fleet.version(first)).toBe('c1')
    expect(fleet.healthFilePresent(first)).toBe(true)
    for (const host of rest) {
      expect(fleet.steps(host)).toEqual([])
      expect(currentOf(host)).toBe('c1')
    }
    const report = JSON.parse(observed.run.outputs.report) as { result: string }[]
    expect(report.map((host) => host.result)).toEqual(['rolled-back', 'skipped', 'skipped', 'skipped'])
    expect(observed.run.stdout).toMatch(
      /the analysis failed 1 of 1 measurement\(s\) in batch 1's bake \(last: 5xx from \S+: [1-9]/
    )
    expect(observed.run.summary).toMatch(/\*\*Bake after batch 1\*\*: \d+ ms, ❌ failed/)
    expect(observed.run.summary).toMatch(/\| \d+ \| ❌ 1 \| 5xx from \S+: [1-9]\d* \|/)
  })

  it('a release its canary rejected is removed and is never "previous": rollback-to previous goes to the one before, 0 errors', async () => {
    await startFrom('g1')
    expect((await runAction(releaseModeInputs(fleet, scratch, 'g2'))).code).toBe(0)
    const rejected = await rollUnderTraffic(fleet, canary('g3', '--error-every 5'))
    expect(rejected.run.code).toBe(1)
    for (const host of fleet.hosts) {
      expect(currentOf(host)).toBe('g2')
      expect(existsSync(join(host.root, 'releases/g3'))).toBe(false) // prepared everywhere, removed at the end
    }
    const { upload: _upload, 'release-id': _id, ...back } = releaseModeInputs(fleet, scratch, 'g1')
    const observed = await rollUnderTraffic(fleet, { ...back, 'rollback-to': 'previous' })
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    for (const host of fleet.hosts) {
      expect(currentOf(host)).toBe('g1')
      expect(await fleet.version(host)).toBe('g1')
    }
  })

  it('canary judged good: the bake passes, the fleet follows, the summary shows the bake and its measurement', async () => {
    await startFrom('c1')
    const observed = await rollUnderTraffic(fleet, canary('c3'))
    expect(observed.run.code).toBe(0)
    for (const host of fleet.hosts) {
      expect(currentOf(host)).toBe('c3')
      expect(await fleet.version(host)).toBe('c3')
    }
    expectNoUserVisibleErrors(observed)
    expect(observed.run.summary).toMatch(/\*\*Bake after batch 1\*\*: 3\d{3} ms, ✅ passed/)
    expect(observed.run.summary).toMatch(new RegExp(`\\| \\d+ \\| 0 \\| 5xx from ${fleet.hosts[0].entry}: 0 \\|`))
    expect(observed.run.summary).toMatch(/section bakes\n {2}batch-1 :active, /)
    expect(JSON.parse(observed.run.outputs.bakes)).toEqual([
      expect.objectContaining({ batch: 1, verdict: 'passed', measurements: [expect.objectContaining({ code: 0 })] })
    ])
  })
})
