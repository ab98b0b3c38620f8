// The local fleet as a command with separate steps, for a job that keeps it up across its steps
// (the self-test job of .github/workflows/ci.yml) and for a person at a terminal:
//   up [--hosts N] [--no-traffic] [--lifetime 15m]  start N hosts (sshd + nginx + app v1 each)
//       behind HAProxy, with live traffic through it; detach; print the action's inputs for it
//       (to $GITHUB_OUTPUT too when set). Each host also has v2 and `broken` (never healthy).
//   check success|failure [--failed N] [--release v2]  what the self-test asserts after a step
//       that used the action: its outputs (ACTION_RESULT, ACTION_SUCCEEDED_HOSTS,
//       ACTION_FAILED_HOSTS, ACTION_REPORT from the environment) against the fleet itself: the
//       version each host serves, HAProxy's view of rotation, and no failed request so far.
//   down  stop everything; print the traffic tally; fail if any request failed.
// Needs root, as the fleet tests do; scripts/fleet.sh runs it so. The fleet's state is in
// $FLEET_STATE (default /tmp/rolling-deploy-fleet.json); the fleet stops by itself after --lifetime.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { setTimeout as pause } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { DEFAULT_RELEASES, startFleet } from './fleet.js'
import { adminCommand, outOfRotation, parseStates } from './haproxy.js'
import { isRunning } from './processes.js'
import { inRotation, versionOn } from './releases.js'
import { HOST_VIEW } from './ssh-hosts.js'
import { sampleRotation, startTraffic, type Tally } from './traffic.js'
import { parseDuration } from '../../src/inputs/parse.js'

export const STATE_FILE = process.env.FLEET_STATE || '/tmp/rolling-deploy-fleet.json'

interface HostState {
  name: string
  entry: string
  address: string
  root: string
}

export interface FleetState {
  /** The process that holds the fleet up (its daemons are its children). */
  pid: number
  log: string
  /** Where it writes the traffic tally, four times a second and once at the end. */
  tallyFile: string
  socket: string
  lbPort: number
  appPort: number
  traffic: boolean
  hosts: HostState[]
  inputs: Record<string, string>
  keyFile: string
}

interface TallyFile {
  tally: Tally
  final: boolean
  maxOutOfRotation?: number
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T
const writeAtomically = (file: string, value: unknown) => {
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2))
  renameSync(`${file}.tmp`, file)
}

/** The releases the self-test rolls: v2, and one whose app never turns healthy. */
export const RELEASES = [...DEFAULT_RELEASES, { name: 'broken', flags: '--never-healthy' }]

/** The action's inputs for the fleet: as root each host's own disk is at HOST_VIEW, so one health-file fits all. */
function inputsFor(all: Record<string, string>): Record<string, string> {
  if (process.getuid?.() !== 0) return all
  const { 'offline-command': _offline, 'online-command': _online, ...rest } = all
  return { ...rest, 'health-file': `${HOST_VIEW}/status/nginx-status.html` }
}

/** Runs in the detached process `up` starts: holds the fleet and the traffic until told to stop. */
async function serve(count: number, traffic: boolean, lifetimeMs: number): Promise<void> {
  const fleet = await startFleet(count, RELEASES)
  const clients = traffic ? startTraffic(fleet.lb.port, 8, 5, lifetimeMs) : undefined
  const sampler = sampleRotation(fleet.lb, 100, lifetimeMs)
  const tallyFile = `${STATE_FILE}.tally`
  const writeTally = (final: boolean, maxOutOfRotation?: number) =>
    clients && writeAtomically(tallyFile, { tally: clients.snapshot(), final, maxOutOfRotation } satisfies TallyFile)
  const ticker = setInterval(() => writeTally(false), 250)
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(ticker)
      await clients?.stop()
      const { maxOutOfRotation } = await sampler.stop()
      writeTally(true, maxOutOfRotation)
      await fleet.close()
      process.exit(0)
    })())
  process.once('SIGTERM', () => void stop())
  process.once('SIGINT', () => void stop())
  setTimeout(() => void stop(), lifetimeMs).unref()
  writeAtomically(STATE_FILE, {
    pid: process.pid,
    log: `${STATE_FILE}.log`,
    tallyFile,
    socket: fleet.lb.socket,
    lbPort: fleet.lb.port,
    appPort: fleet.appPort,
    traffic,
    hosts: fleet.hosts.map(({ name, entry, address, root }) => ({ name, entry, address, root })),
    inputs: inputsFor(fleet.inputs()),
    keyFile: fleet.ssh.clientKeyPath
  } satisfies FleetState)
}

/** `name<<DELIMITER` blocks, as a step writes multi-line outputs to $GITHUB_OUTPUT. */
export function outputLines(values: Record<string, string>): string {
  const delimiter = `ghadelimiter_${randomUUID()}`
  return Object.entries(values)
    .map(([name, value]) => `${name}<<${delimiter}\n${value}\n${delimiter}\n`)
    .join('')
}

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      hosts: { type: 'string', default: '3' },
      'no-traffic': { type: 'boolean', default: false },
      lifetime: { type: 'string', default: '15m' }
    }
  })
  if (existsSync(STATE_FILE) && isRunning(readJson<FleetState>(STATE_FILE).pid)) {
    console.error(`A fleet is already up (${STATE_FILE}): run down first.`)
    return 1
  }
  rmSync(STATE_FILE, { force: true })
  const log = openSync(`${STATE_FILE}.log`, 'w')
  const serveArgs = [values.hosts, String(!values['no-traffic']), String(parseDuration(values.lifetime))]
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'serve', ...serveArgs], {
    detached: true,
    stdio: ['ignore', log, log]
  })
  child.unref()
  const deadline = Date.now() + 60_000
  while (!existsSync(STATE_FILE)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      console.error(`The fleet did not start:\n${readFileSync(`${STATE_FILE}.log`, 'utf8')}`)
      if (child.exitCode === null) child.kill('SIGKILL')
      return 1
    }
    await pause(100)
  }
  const state = readJson<FleetState>(STATE_FILE)
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, outputLines(state.inputs))
  console.log(`Fleet up: ${state.hosts.length} host(s) behind HAProxy on 127.0.0.1:${state.lbPort}`)
  console.log(state.traffic ? 'Traffic: 8 clients through HAProxy until `down`.' : 'No traffic.')
  console.log(`Inputs for the action${process.env.GITHUB_OUTPUT ? ' (also step outputs of the same names)' : ''}:\n`)
  // The key file says the same as the key text (the action takes either) and keeps the log short.
  console.log(stringify({ ...state.inputs, 'private-key': state.keyFile }, { lineWidth: 0 }))
  return 0
}

interface ReportEntry {
  host: string
  result: string
  rotation: string
}

/** The action's outputs, as the step's `env:` hands them over. */
function actionOutputs() {
  const json = <T>(name: string): T => {
    try {
      return JSON.parse(process.env[name] ?? '') as T
    } catch {
      throw new Error(`${name} is not JSON: ${JSON.stringify(process.env[name])}`)
    }
  }
  return {
    outcome: process.env.ACTION_OUTCOME,
    result: process.env.ACTION_RESULT,
    succeeded: json<string[]>('ACTION_SUCCEEDED_HOSTS'),
    failed: json<string[]>('ACTION_FAILED_HOSTS'),
    report: json<ReportEntry[]>('ACTION_REPORT')
  }
}

/** HAProxy's states once they match `expected` (it needs rise × inter to notice), or as they are after 5 s. */
async function haproxyStates(state: FleetState, expected: (states: Map<string, string>) => boolean) {
  const deadline = Date.now() + 5000
  for (;;) {
    const states = parseStates(await adminCommand(state.socket, 'show stat'))
    if (expected(states) || Date.now() > deadline) return states
    await pause(100)
  }
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { failed: { type: 'string', multiple: true, default: [] }, release: { type: 'string', default: 'v2' } }
  })
  const expected = positionals[0]
  if (expected !== 'success' && expected !== 'failure') throw new Error('usage: check success|failure [--failed N]')
  const state = readJson<FleetState>(STATE_FILE)
  const failedHosts = state.hosts.filter((_, i) => values.failed.includes(String(i + 1)))
  const outputs = actionOutputs()
  const problems: string[] = []
  const expect = (ok: boolean, what: string, seen: unknown) => {
    console.log(`${ok ? '✓' : '✗'} ${what}${ok ? '' : `: got ${JSON.stringify(seen)}`}`)
    if (!ok) problems.push(what)
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

  if (outputs.outcome !== undefined)
    expect(outputs.outcome === expected, `the step's outcome is ${expected}`, outputs.outcome)
  expect(outputs.result === expected, `result is ${expected}`, outputs.result)
  const entries = (hosts: HostState[]) => hosts.map((host) => host.entry)
  const succeeded = expected === 'success' ? state.hosts : []
  expect(
    same(outputs.succeeded, entries(succeeded)),
    `succeeded-hosts is [${succeeded.map((h) => h.name)}]`,
    outputs.succeeded
  )
  expect(
    same(outputs.failed, entries(failedHosts)),
    `failed-hosts is [${failedHosts.map((h) => h.name)}]`,
    outputs.failed
  )
  expect(
    same(
      outputs.report.map((entry) => entry.host),
      entries(state.hosts)
    ),
    'report has every host, in order',
    outputs.report
  )
  for (const [i, entry] of outputs.report.entries()) {
    // After a failure the rollout stops: the hosts after the failed one are never touched.
    const want = failedHosts.includes(state.hosts[i])
      ? { result: 'failed', rotation: 'out' }
      : { result: expected === 'success' ? 'succeeded' : 'skipped', rotation: 'in' }
    const matches = entry.result === want.result && entry.rotation === want.rotation
    expect(matches, `report: ${state.hosts[i].name} ${want.result}, rotation ${want.rotation}`, entry)
  }
  await checkFleet(state, failedHosts, values.release, expect)
  return problems.length === 0 ? 0 : 1
}

/** What the fleet itself says: HAProxy's view, the health files, each serving host's version, the traffic. */
async function checkFleet(
  state: FleetState,
  failedHosts: readonly HostState[],
  release: string,
  expect: (ok: boolean, what: string, seen: unknown) => void
): Promise<void> {
  const servingHosts = state.hosts.filter((host) => !failedHosts.includes(host))
  const states = await haproxyStates(state, (states) =>
    state.hosts.every((host) => outOfRotation(states.get(host.name) ?? 'DOWN') === failedHosts.includes(host))
  )
  for (const host of state.hosts) {
    const out = failedHosts.includes(host)
    expect(
      outOfRotation(states.get(host.name) ?? 'DOWN') === out,
      `HAProxy: ${host.name} ${out ? 'out of' : 'in'} rotation`,
      states.get(host.name)
    )
    expect(inRotation(host) !== out, `${host.name}'s health file ${out ? 'removed' : 'present'}`, inRotation(host))
  }
  for (const host of servingHosts) {
    const version = await versionOn(host, state.appPort)
    expect(version === release, `${host.name} serves ${release}`, version)
  }
  if (state.traffic) {
    const { tally } = readJson<TallyFile>(state.tallyFile)
    expect(tally.requests > 0 && tally.errors === 0, `traffic: ${tally.requests} requests so far, none failed`, tally)
  }
}

async function down(): Promise<number> {
  if (!existsSync(STATE_FILE)) {
    console.log(`No fleet is up (${STATE_FILE} is missing).`)
    return 0
  }
  const state = readJson<FleetState>(STATE_FILE)
  if (isRunning(state.pid)) process.kill(state.pid, 'SIGTERM')
  const deadline = Date.now() + 30_000
  while (isRunning(state.pid) && Date.now() < deadline) await pause(100)
  if (isRunning(state.pid)) process.kill(state.pid, 'SIGKILL')
  rmSync(STATE_FILE, { force: true })
  rmSync(state.log, { force: true })
  console.log('Fleet stopped.')
  if (!state.traffic) return 0
  const { tally, final, maxOutOfRotation } = readJson<TallyFile>(state.tallyFile)
  rmSync(state.tallyFile, { force: true })
  const versions = Object.entries(tally.byVersion).map(([version, n]) => `${n} × ${version}`)
  console.log(`Traffic: ${tally.requests} requests, ${tally.errors} errors (${versions.join(', ')})`)
  if (tally.errors > 0)
    console.log(`  by status ${JSON.stringify(tally.byStatus)}, connections ${JSON.stringify(tally.connectionErrors)}`)
  if (maxOutOfRotation !== undefined) console.log(`At most ${maxOutOfRotation} host(s) out of rotation at once.`)
  if (!final) console.log('(the tally of the last moment before the fleet stopped: it did not stop cleanly)')
  return final && tally.requests > 0 && tally.errors === 0 ? 0 : 1
}

async function main([command, ...args]: string[]): Promise<number> {
  switch (command) {
    case 'up':
      return up(args)
    case 'serve':
      await serve(Number(args[0]), args[1] === 'true', Number(args[2]))
      return 0
    case 'check':
      return check(args)
    case 'down':
      return down()
    default:
      console.error(
        'usage: fleet up [--hosts N] [--no-traffic] [--lifetime 15m] | check success|failure [--failed N] [--release v2] | down'
      )
      return 2
  }
}

process.exitCode = await main(process.argv.slice(2))
