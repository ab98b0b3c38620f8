// The guards around the rollout as a whole, as logic on fakes (virtual time): the capacity floor
// before each batch, and the bake after it with its analysis. The fleet tests (guards-fleet.test.ts)
// show them on real sshd, nginx and HAProxy.
import { describe, expect, it } from '@jest/globals'
import { renderGantt, renderOutputs, renderSummary, failureMessage } from '../../src/rollout/report.js'
import { describePlan } from '../../src/rollout/plan.js'
import { settingsWith } from '../../test/fakes/fakes.js'
import { fakeRollout, type RunnerReply } from '../../test/fakes/rollout.js'

const PROBE = 'lb-says-in'
const ANALYSIS = 'judge-canary'

/** The shared harness with an online-probe on every host (the capacity floor reads rotation with it). */
const guarded = (overrides: Record<string, string>, probe?: RunnerReply) =>
  fakeRollout({ 'online-probe': PROBE, 'online-wait': '5s', ...overrides }, probe)

/** Whether a host left rotation: its first command is the health file's removal. */
const touched = (host: { commands: string[] }) => host.commands.length > 0

describe('capacity floor (min-in-rotation)', () => {
  it('stops before the first batch leaves rotation when another host is already out, naming it', async () => {
    const rollout = guarded({ 'min-in-rotation': '3' }, (command, _calls, env) =>
      command === PROBE && env.get('ROLLOUT_HOST') === 'h4' ? 1 : 0
    )
    const result = await rollout.run()
    expect(result.status).toBe('failure')
    expect(rollout.hosts.some(touched)).toBe(false)
    expect(result.hosts.map((host) => host.outcome)).toEqual(['skipped', 'skipped', 'skipped', 'skipped'])
    expect(result.stoppedBecause).toMatch(
      /^taking batch 1 \(deploy@h1\) out would leave fewer than min-in-rotation \(3\) hosts in rotation after 0 ms: 2 of 3 other host\(s\) in rotation; out: deploy@h4$/
    )
    // One round of the probe on each other host, none on the batch's own.
    expect(rollout.runner.runs.map((r) => new Map(r.env).get('ROLLOUT_HOST'))).toEqual(['h2', 'h3', 'h4'])
    expect(failureMessage({ status: result.status, rollout: result })).toMatch(
      /^Rollout failed: stopped because taking batch 1/
    )
  })

  it('waits up to capacity-wait for a host to come back, then rolls every host', async () => {
    let h4Rounds = 0
    const rollout = guarded(
      { 'min-in-rotation': '3', 'capacity-wait': '10s', 'probe-interval': '1s' },
      (command, _c, env) => {
        if (command !== PROBE || env.get('ROLLOUT_HOST') !== 'h4') return 0
        return ++h4Rounds <= 3 ? 1 : 0 // out for three rounds of the capacity check, then back
      }
    )
    const result = await rollout.run()
    expect(result.status).toBe('success')
    expect(rollout.hosts.every(touched)).toBe(true)
    expect(rollout.log.lines.join('\n')).toMatch(
      /Waiting up to 10000 ms for capacity: 2 of 3 other host\(s\) in rotation; out: deploy@h4/
    )
  })

  it('counts a host that failed earlier in the run as out of rotation', async () => {
    // Host 1's start fails: it stays out. Batch 2 (h2) then leaves only h3 and h4 of the others.
    const rollout = guarded({ 'min-in-rotation': '3', 'max-failed-hosts': '1' }, (command, _calls, env) =>
      command === PROBE && env.get('ROLLOUT_HOST') === 'h1' ? 1 : 0
    )
    rollout.hosts[0].reply = (command) => (command === 'appctl start' ? { code: 1 } : {})
    const result = await rollout.run()
    expect(result.hosts.map((host) => host.outcome)).toEqual(['failed', 'skipped', 'skipped', 'skipped'])
    expect(result.stoppedBecause).toMatch(/taking batch 2 \(deploy@h2\) out .* out: deploy@h1$/)
  })
})

describe('bake and analysis', () => {
  it('judges the canary bad: stops after its bake, the other hosts untouched, the measurement reported', async () => {
    const rollout = guarded({ 'batch-size': '1,100%', 'bake-time': '3s', 'analysis-command': ANALYSIS }, (command) =>
      command === ANALYSIS ? 2 : 0
    )
    const result = await rollout.run()
    expect(result.status).toBe('failure')
    expect(result.hosts.map((host) => host.outcome)).toEqual(['succeeded', 'skipped', 'skipped', 'skipped'])
    expect(rollout.hosts.slice(1).some(touched)).toBe(false)
    const analysis = rollout.runner.runs.filter((r) => r.command === ANALYSIS)
    expect(analysis).toHaveLength(1) // a 3 s bake with a 10 s interval: once, at its end
    expect(new Map(analysis[0].env)).toEqual(
      new Map([
        ['ROLLOUT_BATCH', '1'],
        ['ROLLOUT_UPDATED_HOSTS', 'deploy@h1']
      ])
    )
    expect(result.bakes).toEqual([
      expect.objectContaining({
        batch: 1,
        durationMs: 3020,
        verdict: 'failed',
        measurements: [expect.objectContaining({ code: 2, lastLine: 'probe said 2' })]
      })
    ])
    expect(result.stoppedBecause).toBe(
      "the analysis failed 1 of 1 measurement(s) in batch 1's bake (last: probe said 2)"
    )
    expect(JSON.parse(renderOutputs(result).bakes)).toEqual([
      {
        batch: 1,
        durationMs: 3020,
        verdict: 'failed',
        measurements: [{ atMs: expect.any(Number), code: 2, lastLine: 'probe said 2' }]
      }
    ])
  })

  it('measures every interval and at the end, and passes with fewer failures than analysis-failures', async () => {
    const rollout = guarded(
      {
        'batch-size': '1,1,2',
        'bake-time': '25s,0s',
        'analysis-command': ANALYSIS,
        'analysis-failures': '2',
        env: 'REGION=eu'
      },
      (command, calls) => (command === ANALYSIS && calls === 1 ? 1 : 0)
    )
    const result = await rollout.run()
    expect(result.status).toBe('success')
    // bake-time 25s for batch 1; 0s for batches 2 and 3 (the last step repeats); none after the last.
    expect(result.bakes.map((bake) => bake.batch)).toEqual([1])
    const [baked] = result.bakes
    const start = baked.startMs
    expect(baked.measurements.map((m) => m.atMs - start)).toEqual([10_000, 20_000, 25_000]) // a fixed schedule from the bake's start
    expect(baked.measurements.map((m) => m.code)).toEqual([0, 1, 0])
    expect(baked.verdict).toBe('passed')
    expect(new Map(rollout.runner.runs.find((r) => r.command === ANALYSIS)?.env).get('REGION')).toBe('eu')
    const summary = renderSummary(result)
    expect(summary).toMatch(/\*\*Bake after batch 1\*\*: 25020 ms, ✅ passed/)
    expect(summary).toMatch(/\| \d+ \| 0 \| {2}\|\n\| \d+ \| ❌ 1 \| probe said 1 \|/)
    expect(renderGantt(result)).toMatch(new RegExp(`section bakes\\n  batch-1 :active, ${start}, ${start + 25_020}`))
  })

  it('bakes without analysis as a plain wait, and a cancelled bake starts no further batch', async () => {
    const { clock, controller, hosts, run } = fakeRollout({ 'batch-size': '1', 'bake-time': '1m' })
    const sleep = clock.sleep.bind(clock)
    clock.sleep = async (ms, signal) => {
      if (ms === 60_000) controller.abort() // cancelled during the first bake
      return sleep(ms, signal)
    }
    const result = await run()
    expect(result.status).toBe('cancelled')
    expect(result.bakes).toEqual([expect.objectContaining({ batch: 1, verdict: 'cancelled', measurements: [] })])
    expect(hosts.slice(1).some(touched)).toBe(false)
  })

  it('describes the floor and the bakes in the dry-run plan', () => {
    const plan = describePlan(
      settingsWith({
        'online-probe': PROBE,
        'min-in-rotation': '50%',
        'capacity-wait': '1m',
        'batch-size': '1,50%',
        'bake-time': '60s,10s',
        'analysis-command': ANALYSIS
      })
    ).join('\n')
    expect(plan).toMatch(/at least 2 in rotation, waiting up to 60000 ms, or the rollout stops there/)
    expect(plan).toMatch(
      /bake: 60000 ms after batch 1, 10000 ms after batch 2, judged by analysis-command .*: judge-canary/
    )
  })
})
