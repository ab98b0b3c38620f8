// load-balancer: haproxy on the real fleet: 4 hosts behind real HAProxies told through their admin
// sockets, which the action reaches over SSH on LB hosts (sshd's own forwarding to a unix socket).
// Under quick and slow (2 s) traffic through every HAProxy, with apps that cut their requests in
// flight when stopped: only the drain (scur 0 before the stop) keeps the slow ones whole.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { asRoot } from '../../test/fleet-suite.js'
import { APPCTL, LB_SOCKET, startFleet, type Fleet } from '../../test/fleet/fleet.js'
import type { LoadBalancer } from '../../test/fleet/haproxy.js'
import {
  haproxyInputs as fleetHaproxyInputs,
  observeThrough,
  readyAll,
  startSecondHaproxy,
  type SeenThrough
} from '../../test/fleet/haproxies.js'
import { runAction, annotationsOf, type ActionRun } from '../../test/run-action.js'
import type { Tally } from '../../test/fleet/traffic.js'

let fleet: Fleet
let second: LoadBalancer | undefined

beforeAll(async () => {
  if (!asRoot) return
  // LB hosts: the fleet's HAProxy on the first, a second HAProxy on the second and on the third,
  // whose sshd will not forward to a unix socket (AllowStreamLocalForwarding no).
  fleet = await startFleet(4, undefined, { streamLocalRefused: [6] }, { lbHosts: 3 })
  second = await startSecondHaproxy(fleet, fleet.lbHosts.slice(1))
}, 60_000)
afterAll(async () => {
  await second?.stop()
  await fleet?.close()
})
beforeEach(async () => {
  if (!asRoot) return
  // v1 stops abruptly, cutting what it serves: only a drain lets a request in flight finish.
  await fleet.reset(() => [{ name: 'v1', flags: '--abrupt-stop' }, { name: 'v2' }])
  await readyAll([fleet.lb, second!], fleet.hosts.length)
})

/** The fleet's inputs with the LB told through HAProxy on `lbHosts` (no health file, no rotation commands). */
const haproxyInputs = (lbHosts: readonly number[], overrides: Record<string, string> = {}) =>
  fleetHaproxyInputs(fleet, lbHosts, overrides)

const report = (run: ActionRun) => JSON.parse(run.outputs.report ?? '[]') as Record<string, unknown>[]
const stepsMs = (run: ActionRun) => report(run).map((host) => host.stepsMs as Record<string, number>)
const noErrors = (tally: Tally) =>
  expect({ byStatus: tally.byStatus, errors: tally.connectionErrors }).toEqual({
    byStatus: { 200: tally.requests },
    errors: {}
  })

/** A rollout every HAProxy saw: each host out once, one at a time, all back, nobody's request failed. */
async function expectCleanRoll(seen: SeenThrough<ActionRun>, lbs: number) {
  expect(seen.result.code).toBe(0)
  for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
  noErrors(seen.quick)
  noErrors(seen.slow)
  expect(seen.quick.requests).toBeGreaterThan(100)
  expect(seen.slow.requests).toBeGreaterThan(10)
  expect(seen.rotation).toHaveLength(lbs)
  for (const { byServer, maxOut, outAtEnd } of seen.rotation) {
    expect(maxOut).toBe(1)
    expect(outAtEnd).toEqual([])
    expect(fleet.hosts.map((host) => byServer.get(host.name)?.length)).toEqual([1, 1, 1, 1])
  }
  // The health file, which the fleet's HAProxy checks, never moved: HAProxy itself was told.
  for (const host of fleet.hosts) {
    expect(fleet.healthFilePresent(host)).toBe(true)
    expect(fleet.steps(host)).toEqual(['stop', 'deploy v2', 'start'])
  }
  // The premise: slow requests were in flight as hosts left, and the drain waited for them (with 8
  // slow clients per HAProxy, a host has none about one time in seven; all four, 1 in 2,000).
  expect(stepsMs(seen.result).filter((steps) => steps['offline-wait'] > 300).length).toBeGreaterThanOrEqual(1)
}

describe.each([asRoot ? 'real fleet' : 'skipped: needs root'])('load-balancer: haproxy (%s)', () => {
  const run = asRoot ? it : it.skip

  run('over SSH on an LB host: 4 hosts rolled under quick and 2 s traffic, 0 errors', async () => {
    const seen = await observeThrough([fleet.lb], () => runAction(haproxyInputs([0])))
    await expectCleanRoll(seen, 1)
    const { stdout } = seen.result
    const [lb, host] = [fleet.lbHosts[0].entry, fleet.hosts[0]]
    expect(stdout).toContain(`[${host.entry}] load balancer (haproxy): app/${host.name} UP`)
    expect(stdout).toContain(`[${host.entry}] HAProxy at ${lb}: app/${host.name} set to drain`)
    expect(stdout).toContain(`[${host.entry}] HAProxy at ${lb}: app/${host.name} set to maint`)
    expect(stdout).toContain(`[${host.entry}] HAProxy: app/${host.name} UP`)
    expect(annotationsOf(stdout).filter((a) => a.level !== 'notice')).toEqual([])
  })

  run(
    'two HAProxies in front of the same hosts, each on its LB host: every change on both, 0 errors through either',
    async () => {
      const seen = await observeThrough([fleet.lb, second!], () => runAction(haproxyInputs([0, 1])))
      await expectCleanRoll(seen, 2)
      const host = fleet.hosts[2]
      expect(seen.result.stdout).toContain(
        `[${host.entry}] load balancer (haproxy): app/${host.name} UP at ${fleet.lbHosts[0].entry}, ${fleet.lbHosts[1].entry}`
      )
      for (const lb of fleet.lbHosts.slice(0, 2))
        expect(seen.result.stdout).toContain(`[${host.entry}] HAProxy at ${lb.entry}: app/${host.name} set to ready`)
    }
  )

  run('the harness sees cut requests: a drain-timeout shorter than the 2 s requests warns, and some fail', async () => {
    const seen = await observeThrough([fleet.lb], () => runAction(haproxyInputs([0], { 'drain-timeout': '1ms' })), {
      slowClients: 6
    })
    expect(seen.result.code).toBe(0)
    const warnings = annotationsOf(seen.result.stdout).filter((a) => a.level === 'warning')
    expect(warnings.map((a) => a.message)).toContainEqual(
      expect.stringMatching(
        /: HAProxy still counts \d+ sessions? \(app\/host\d \d+ at [^)]+\) after drain-timeout \(1 ms\); taking it out anyway$/
      )
    )
    expect(seen.slow.errors).toBeGreaterThan(0)
  })

  run('an LB host whose sshd does not forward to unix sockets is asked with socat there, 0 errors', async () => {
    const seen = await observeThrough([second!], () => runAction(haproxyInputs([2])))
    await expectCleanRoll(seen, 1)
    expect(seen.result.stdout).toContain(
      `[${fleet.lbHosts[2].entry}] sshd did not open ${LB_SOCKET.overSsh} ((SSH) Channel open failure: open failed); socat on the host did: asking HAProxy with socat there`
    )
  })

  run(
    "the dry run shows each host's HAProxy servers and state, and the plan's HAProxy steps; nothing changes",
    async () => {
      await readyAll([fleet.lb], fleet.hosts.length)
      const { code, summary } = await runAction(haproxyInputs([0, 1], { 'dry-run': 'true' }))
      expect(code).toBe(0)
      const lbs = `${fleet.lbHosts[0].entry}, ${fleet.lbHosts[1].entry}`
      for (const host of fleet.hosts) expect(summary).toContain(`| app/${host.name} UP at ${lbs} |`)
      expect(summary).toContain('set server … state drain on every HAProxy (runtime API)')
      expect(summary).toContain('until its sessions (scur) reach 0, up to 10000 ms (drain-timeout), then state maint')
      for (const lb of [fleet.lb, second!]) expect([...(await lb.states()).values()]).toEqual(['UP', 'UP', 'UP', 'UP'])
      for (const host of fleet.hosts) expect(fleet.steps(host)).toEqual([])
    }
  )

  run('a host HAProxy does not know fails preflight by name; nothing is touched', async () => {
    const stranger = fleet.lbHosts[1] // an sshd HAProxy has no server for
    const seen = await observeThrough([fleet.lb], () =>
      runAction(haproxyInputs([0], { hosts: [...fleet.hosts, stranger].map((h) => h.entry).join('\n') }))
    )
    expect(seen.result.code).toBe(1)
    const [error] = annotationsOf(seen.result.stdout).filter((a) => a.level === 'error')
    expect(error.message).toContain(
      `Preflight failed for 1 host(s); nothing was changed on any host:\n- ${stranger.entry}: HAProxy at ${fleet.lbHosts[0].entry}: no server at ${stranger.address} (its servers' addresses: ${fleet.hosts.map((h) => h.address).join(', ')})`
    )
    noErrors(seen.quick)
    expect(seen.rotation[0].byServer.size).toBe(0)
    for (const host of fleet.hosts) expect(fleet.steps(host)).toEqual([])
  })

  run('a host HAProxy never sees UP again is left out (maint) and fails; the rollout stops, 0 errors', async () => {
    const [first] = fleet.hosts
    // Healthy to the action (its app answers /health), but the file HAProxy checks is gone.
    const deploy = `${APPCTL} deploy "$RELEASE" && { [ "$ROLLOUT_HOST" != ${first.address} ] || rm -f "$HOST_ROOT/status/nginx-status.html"; }`
    const seen = await observeThrough([fleet.lb], () =>
      runAction(haproxyInputs([0], { 'deploy-command': deploy, 'online-wait': '2s' }))
    )
    expect(seen.result.code).toBe(1)
    expect(report(seen.result)[0]).toMatchObject({
      result: 'failed',
      failedStep: 'online-wait',
      error: expect.stringMatching(
        /^HAProxy did not report the host UP after 2000 ms: app\/host1 DOWN.*; left out of rotation \(state maint\)$/
      )
    })
    expect((await fleet.lb.states()).get(first.name)).toBe('MAINT')
    noErrors(seen.quick)
    noErrors(seen.slow)
    for (const host of fleet.hosts.slice(1)) expect(fleet.steps(host)).toEqual([])
  })
})
