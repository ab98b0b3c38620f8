// The bundled command line (dist/cli.js) on the real fleet, its output piped as another CI's log
// would be: sshd + nginx + app per host, HAProxy in front, live traffic counting every response.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { stringify } from 'yaml'
import { getSettings } from '../../src/inputs/get-settings.js'
import { startFleet, type Fleet } from '../../test/fleet/fleet.js'
import { observeWhile, userVisibleErrors, type Seen } from '../../test/fleet/observe.js'
import { inputFlags, runCli, type CliRun } from '../../test/run-cli.js'

let fleet: Fleet
let scratch: string

beforeAll(async () => {
  fleet = await startFleet(3)
  scratch = mkdtempSync(join(tmpdir(), 'rollout-cli-'))
})

afterAll(async () => {
  await fleet?.close()
  rmSync(scratch, { recursive: true, force: true })
})

/** The fleet's inputs with the key as a file's path, as a person at a terminal passes it. */
const inputs = (overrides: Record<string, string> = {}) =>
  fleet.inputs({ 'private-key': fleet.ssh.clientKeyPath, ...overrides })

async function rollWithCli(args: string[], options: Parameters<typeof runCli>[1] = {}) {
  return observeWhile(fleet, () => runCli(args, options))
}

function expectNoUserVisibleErrors(seen: Seen) {
  expect(userVisibleErrors(seen)).toEqual({ byStatus: {}, connectionErrors: {} })
  expect(seen.tally.requests).toBeGreaterThan(100)
}

const entryPattern = (entry: string) => entry.replace(/[.[\]]/g, '\\$&')

describe('rolling-deploy on a 3-host fleet behind HAProxy', () => {
  it('rolls v1 → v2 under traffic: 0 errors, exit 0, plain lines, no workflow command, no secret', async () => {
    await fleet.reset()
    const { result: run, ...seen } = await rollWithCli(inputFlags(inputs()))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expectNoUserVisibleErrors(seen)
    expect(seen.outAtEnd).toEqual([])
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    expect(run.stdout).toContain(`[${fleet.hosts[0].entry}] healthy: HTTP 200`)
    // The summary as text: the demo's table and timeline, not markdown.
    expect(run.stdout).toMatch(/^✅ Rollout succeeded$/m)
    expect(run.stdout).toMatch(/^Host +Batch +Result +In rotation +offline \(ms\)/m)
    expect(run.stdout).toMatch(/^Timeline \(0 to \d+ ms\):$/m)
    expect(run.stdout).not.toMatch(/^::/m)
    expect(run.stdout).not.toContain('\x1b')
    expect(run.stdout).not.toContain('GITHUB_STEP_SUMMARY')
    expect(run.stdout).not.toContain('PRIVATE KEY')
  })

  it('--config rollout.yml gives the inputs, and a flag overrides one of them', async () => {
    await fleet.reset()
    const { hosts, env, ...rest } = inputs()
    const config = join(scratch, 'rollout.yml')
    // A list for hosts and a mapping for env, as a person writes YAML; a health body that never
    // matches, so only the flag's value lets the run succeed.
    const [name, value] = env.split('=')
    writeFileSync(config, stringify({ ...rest, hosts: hosts.split('\n'), env: { [name]: value }, 'health-body': 'v9' }))
    const { result: run, ...seen } = await rollWithCli(['--config', config, '--health-body', 'version=v2'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expectNoUserVisibleErrors(seen)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
  })

  it('--json prints the report on stdout, parsable, with every host; the log goes to stderr; env values masked', async () => {
    await fleet.reset()
    // An env value that is also host 3's name: wherever the name is printed, it is hidden.
    const secret = fleet.hosts[2].entry
    const run = await runCli([...inputFlags(inputs({ env: `RELEASE=v2\nAPI_TOKEN=${secret}` })), '--json'])
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(report).toMatchObject({ result: 'success', 'failed-hosts': [], 'skipped-hosts': [] })
    const shown = [...fleet.hosts.slice(0, 2).map((host) => host.entry), '***']
    expect(report['succeeded-hosts']).toEqual(shown)
    expect(report.report.map((host: { host: string; result: string }) => [host.host, host.result])).toEqual(
      shown.map((entry) => [entry, 'succeeded'])
    )
    expect(report.report[0].stepsMs).toHaveProperty('health')
    expect(run.stderr).toContain('▸ Batch 1/3')
    expect(run.stderr).toMatch(/^✅ Rollout succeeded$/m)
    expect(run.stderr).toMatch(/^\*\*\* +3 +✅ succeeded/m) // the summary's table
    expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it('Ctrl-C during host 2 health check: exit 130, host 2 out, host 3 untouched, all reported', async () => {
    await fleet.reset((_host, i) => [
      { name: 'v1' },
      { name: 'v2', flags: i === 1 ? '--healthy-after-ms 20000' : undefined }
    ])
    const [first, second, third] = fleet.hosts
    const { result: run, ...seen } = await rollWithCli([...inputFlags(inputs({ 'health-timeout': '30s' })), '--json'], {
      interruptWhen: new RegExp(`\\[${entryPattern(second.entry)}\\] not healthy yet`)
    })
    expect(run.exitAfterInterruptMs).toBeLessThan(10_000)
    expect(run.code).toBe(130)
    const report = JSON.parse(run.stdout)
    expect(report.result).toBe('cancelled')
    expect(report.report.map((host: { result: string; rotation: string }) => [host.result, host.rotation])).toEqual([
      ['succeeded', 'in'],
      ['cancelled', 'out'],
      // Never reached: its rotation as measured at preflight; an offline-command without a probe cannot measure it.
      ['skipped', 'unknown']
    ])
    expect(run.stderr).toContain('warning: Received SIGINT: finishing safely, starting no new step or host')
    expect(run.stderr).toMatch(/^⚠️ Rollout cancelled$/m)
    expect(await fleet.version(first)).toBe('v2')
    expect(fleet.healthFilePresent(second)).toBe(false)
    expect(seen.outAtEnd).toEqual([second.name])
    expect(fleet.steps(third)).toEqual([])
    expect(await fleet.version(third)).toBe('v1')
    expectNoUserVisibleErrors(seen)
  })
})

describe('invalid input: exit 2, one error, no connection', () => {
  let listener: Server
  let connections = 0
  /** Valid inputs but for the hosts: the counting listener, whose key nobody could know. */
  let base: Record<string, string>

  beforeAll(async () => {
    // Hosts that count every connection attempt.
    listener = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const hosts = `deploy@127.0.0.1:${(listener.address() as { port: number }).port}`
    base = { ...inputs(), hosts, 'strict-host-key-checking': 'false' }
  })
  afterAll(() => void listener.close())

  async function expectInvalid(args: string[], error: string | RegExp): Promise<CliRun> {
    const before = connections
    const run = await runCli(args)
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' })
    expect(run.stderr).toMatch(typeof error === 'string' ? `rolling-deploy: ${error}\n` : error)
    expect(connections).toBe(before)
    return run
  }

  it('an invalid value: the action’s own single error', async () => {
    const given: Record<string, string> = { ...base, 'batch-size': '0' }
    let expected = ''
    try {
      getSettings((name) => given[name] ?? '')
    } catch (error: unknown) {
      expected = (error as Error).message
    }
    expect(expected).toMatch(/^Invalid input: batch-size '0'/)
    await expectInvalid(inputFlags(given), expected)
  })

  it('an unknown flag', () =>
    expectInvalid([...inputFlags(base), '--hots', 'x'], /^rolling-deploy: Unknown option '--hots'/))

  it('a config file that is not YAML', async () => {
    const config = join(scratch, 'broken.yml')
    writeFileSync(config, 'hosts: [unclosed\n')
    await expectInvalid(['--config', config], new RegExp(`^rolling-deploy: --config ${config}: not valid YAML`))
  })

  it('the listener does count a connection (the checks above can fail)', async () => {
    const before = connections
    const run = await runCli(inputFlags({ ...base, 'connect-attempts': '1', 'connect-timeout': '1s' }))
    expect(run.code).toBe(1)
    expect(connections).toBeGreaterThan(before)
  })
})
