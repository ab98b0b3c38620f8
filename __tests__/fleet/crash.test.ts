// A runner that dies (kill -9 of the action) at any step of a host's cycle, then a plain re-run of
// the same workflow run with the same inputs (GITHUB_RUN_ATTEMPT + 1): on a real 3-host fleet
// behind HAProxy under traffic (the matrix rolls two of them at once, the third serving). The re-run takes over the dead attempt's lock at once, names the
// dead run and what it left, and heals the fleet: exit 0, every host on the new release, serving
// and in rotation, no lock and no journal left, no user-visible error throughout.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { observeWhile } from '../../test/fleet/observe.js'
import { releaseModeInputs } from '../../test/fleet/release-inputs.js'
import { HOST_VIEW, type SshHost } from '../../test/fleet/ssh-hosts.js'
import { annotationsOf, runAction, type ActionRun, type RunOptions } from '../../test/run-action.js'
import { journalFile } from '../../src/ssh/journal-scripts.js'

let fleet: Fleet
let scratch: string
withFleet(3, 'rollout-crash-', (started, dir) => ((fleet = started), (scratch = dir)))

/** The workflow run, attempt `attempt`, as a runner sets its variables. */
const github = (runId: number, attempt: number): RunOptions['env'] => ({
  GITHUB_SERVER_URL: 'https://github.example',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: String(runId),
  GITHUB_RUN_ATTEMPT: String(attempt),
  GITHUB_ACTOR: 'alice',
  GITHUB_SHA: 'abcdef1234567890'
})
const runUrl = (runId: number) => `https://github.example/acme/shop/actions/runs/${runId}`

/** The step a host's journal says its run is about to do (or in), if any: next to the lock of either mode. */
function journalStep(host: SshHost): string | undefined {
  for (const dir of ['.lock.journal', 'deploy.lock.journal']) {
    try {
      const file = join(host.root, dir, journalFile(host.entry))
      return (JSON.parse(readFileSync(file, 'utf8')) as { step: string }).step
    } catch {
      // not there
    }
  }
  return undefined
}

/** The process group the command of `host`'s journaled step recorded as it started, if it did. */
function journalGroup(host: SshHost): string | undefined {
  for (const dir of ['.lock.journal', 'deploy.lock.journal']) {
    const file = join(host.root, dir, `${journalFile(host.entry)}.group`)
    if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  }
  return undefined
}

/**
 * Runs the action and kills it (SIGKILL: a lost runner) as soon as `host`'s journal shows `step`
 * (and, with `running`, once that step's command has started on the host).
 */
async function killedAt(
  inputs: Record<string, string>,
  env: RunOptions['env'],
  host: SshHost,
  step: string,
  running = false
) {
  let pid: number | undefined
  let killed = false
  const watching = (async () => {
    for (let waited = 0; !killed && waited < 60_000; waited += 2) {
      if (pid !== undefined && journalStep(host) === step && (!running || journalGroup(host) !== undefined)) {
        process.kill(pid, 'SIGKILL')
        killed = true
      }
      await pause(2)
    }
  })()
  const run = await runAction(inputs, { env, onSpawn: (spawned) => (pid = spawned) })
  killed = true
  await watching
  // Killed at that step, not after it: the journal has not moved on.
  expect({ signal: run.signal, step: journalStep(host) }).toEqual({ signal: 'SIGKILL', step })
  return run
}

/**
 * Lays the fleet out afresh, unless it is whole already: a healed fleet is where the next case
 * starts (plain mode goes to v2 again, release mode to a new release), which saves a reset per case.
 */
async function resetIfNeeded() {
  const versions = await Promise.all(fleet.hosts.map((host) => fleet.version(host)))
  const whole = fleet.hosts.every(
    (host, i) =>
      versions[i] !== undefined &&
      fleet.healthFilePresent(host) &&
      !readdirSync(host.root).some((f) => /^(break-|fail-start|\.lock|deploy\.lock)/.test(f))
  )
  if (whole && [...(await fleet.lb.states()).values()].every((state) => state === 'UP')) return
  await fleet.reset()
  for (const host of fleet.hosts)
    for (const name of readdirSync(host.root).filter((f) => /^(break-|fail-start|\.lock|deploy\.lock)/.test(f)))
      rmSync(join(host.root, name), { recursive: true, force: true })
}

interface Case {
  readonly mode: 'plain' | 'release'
  readonly step: string
  /** Inputs for this case (a rollback needs a failure to roll back from). */
  readonly inputs?: (fleet: Fleet) => Record<string, string>
  /** Makes host 2 fail in the killed run (a rollback case); undone before the re-run. */
  readonly breakHost?: boolean
  /**
   * The repro rolls all 3 hosts one at a time; the matrix, to be quicker, rolls hosts 1 and 2 in
   * one batch while host 3, not in `hosts`, serves the traffic.
   */
  readonly repro?: boolean
}

let runId = 9000

/** The hosts a case rolls. */
const rolled = (repro = false) => fleet.hosts.slice(0, repro ? 3 : 2)

/**
 * The inputs of a case: release mode to a fresh release id, or plain mode to v2; probes on HAProxy.
 * The command of the step under test takes a moment longer, so the kill lands inside it.
 */
function inputsOf({ mode, step, inputs, repro }: Case, id: string): Record<string, string> {
  // With the probes the waits are only bounds: generous ones, for a machine under load.
  const own = {
    ...fleet.probeInputs(),
    'offline-wait': '5s',
    'online-wait': '5s',
    ...(repro
      ? {}
      : {
          hosts: rolled(false)
            .map((host) => host.entry)
            .join('\n'),
          'batch-size': '2'
        }),
    ...inputs?.(fleet)
  }
  const all =
    mode === 'release'
      ? releaseModeInputs(fleet, scratch, id, own)
      : fleet.inputs({ ...own, 'lock-path': `${HOST_VIEW}/deploy.lock` })
  const command = `${step}-command`
  return all[command] === undefined ? all : { ...all, [command]: `sleep 0.5; ${all[command]}` }
}

/** The dead run, then its re-run: what the re-run did, with traffic observed across both. */
async function crashThenReRun(test: Case): Promise<Outcome> {
  await resetIfNeeded()
  const id = test.mode === 'release' ? `c${++runId}` : 'v2'
  const inputs = inputsOf(test, id)
  const victim = fleet.hosts[1]
  if (test.breakHost) writeFileSync(join(victim.root, test.mode === 'release' ? `break-${id}` : 'fail-start'), '')
  runId += 1
  const observed = await observeWhile(fleet, async () => {
    const killed = await killedAt(inputs, github(runId, 1), victim, test.step)
    for (const name of [`break-${id}`, 'fail-start']) rmSync(join(victim.root, name), { force: true })
    const reRun = await runAction(inputs, { env: github(runId, 2) })
    return { killed, reRun }
  })
  expectNoUserVisibleErrors(observed)
  return { ...observed.result, id, hosts: rolled(test.repro) }
}

interface Outcome {
  readonly killed: ActionRun
  readonly reRun: ActionRun
  /** The release the hosts rolled went to. */
  readonly id: string
  readonly hosts: readonly SshHost[]
}

async function expectHealed({ killed, reRun, id, hosts }: Outcome, step: string) {
  expect(killed.signal).toBe('SIGKILL')
  const errors = annotationsOf(reRun.stdout).filter((a) => a.level === 'error')
  expect({ code: reRun.code, stderr: reRun.stderr, errors }).toEqual({ code: 0, stderr: '', errors: [] })
  for (const host of hosts) {
    expect(await fleet.version(host)).toBe(id)
    expect(fleet.healthFilePresent(host)).toBe(true)
    expect(existsSync(join(host.root, '.lock'))).toBe(false)
    expect(existsSync(join(host.root, 'deploy.lock'))).toBe(false)
    expect(journalStep(host)).toBeUndefined()
  }
  await fleet.waitForStates((states) => [...states.values()].every((state) => state === 'UP'), 3000)
  // The dead run is named, with what it left, in the summary and the log.
  const left = `${fleet.hosts[1].entry}: left by run ${runUrl(runId)} (attempt 1) during \`${step}\``
  expect(reRun.summary).toContain(left)
  expect(reRun.stdout).toContain('took over the deploy lock of an earlier attempt of this workflow run')
  const report = JSON.parse(reRun.outputs.report) as { result: string; rotation: string }[]
  expect(report.map((host) => host.rotation)).toEqual(hosts.map(() => 'in'))
}

;(asRoot ? describe : describe.skip)('kill -9 of the action, then a re-run of the same workflow run', () => {
  // Plain mode first: release mode's pruning may remove the v2 that plain mode deploys.
  const plainMatrix: Case[] = [
    ...['offline', 'offline-wait', 'stop', 'deploy', 'start', 'health', 'online', 'online-wait'].map((step): Case => ({
      mode: 'plain',
      step
    })),
    // Traffic keeps connections open on the app's port: the drain lasts its timeout.
    { mode: 'plain', step: 'drain', inputs: (f) => ({ 'drain-port': String(f.appPort), 'drain-timeout': '2s' }) },
    {
      mode: 'plain',
      step: 'rollback',
      breakHost: true,
      inputs: () => ({ 'rollback-command': 'sh "$HOST_ROOT/appctl.sh" deploy v1' })
    }
  ]
  const releaseMatrix: Case[] = [
    ...['offline', 'offline-wait', 'stop', 'switch', 'start', 'online', 'online-wait'].map((step): Case => ({
      mode: 'release',
      step
    })),
    { mode: 'release', step: 'prepare', inputs: () => ({ 'prepare-command': 'sleep 1' }) },
    { mode: 'release', step: 'rollback-switch', breakHost: true }
  ]
  const heals = async (test: Case) => expectHealed(await crashThenReRun(test), test.step)
  it.each(plainMatrix)('plain mode, killed at $step on host 2: the re-run heals the fleet', heals)
  it('release mode, killed while host 2 is in its health check after its switch: the re-run puts it back (the repro)', async () => {
    const outcome = await crashThenReRun({ mode: 'release', step: 'health', repro: true })
    await expectHealed(outcome, 'health')
    const report = JSON.parse(outcome.reRun.outputs.report) as { result: string }[]
    // Host 1 was done and in rotation: unchanged; host 2, on the release but out: put back online.
    expect(report.map((host) => host.result)).toEqual(['unchanged', 'succeeded', 'succeeded'])
  })

  it.each(releaseMatrix)('release mode, killed at $step on host 2: the re-run heals the fleet', heals)

  it("killed while host 2's deploy command runs: the re-run waits for that command before it cycles the host", async () => {
    await resetIfNeeded()
    const victim = fleet.hosts[1]
    const inputs = inputsOf({ mode: 'plain', step: 'deploy' }, 'v2')
    const slow = { ...inputs, 'deploy-command': inputs['deploy-command'].replace('sleep 0.5;', 'sleep 3;') }
    const before = fleet.steps(victim).length
    runId += 1
    const observed = await observeWhile(fleet, async () => {
      const killed = await killedAt(slow, github(runId, 1), victim, 'deploy', true)
      const reRun = await runAction(slow, { env: github(runId, 2) })
      return { killed, reRun }
    })
    expectNoUserVisibleErrors(observed)
    await expectHealed({ ...observed.result, id: 'v2', hosts: rolled() }, 'deploy')
    // The dead run's deploy finished before the re-run's stop: nothing raced it. (The action takes the
    // host out by the health file here, so the host's step log has no offline or online.)
    expect(fleet.steps(victim).slice(before)).toEqual(['stop', 'deploy v2', 'stop', 'deploy v2', 'start'])
    expect(observed.result.reRun.stdout).toMatch(
      /the dead run's `deploy` command was still running \(process group \d+\); this run waited until it ended/
    )
  })
})
