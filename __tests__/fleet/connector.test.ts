// src/ssh.ts and src/remote-command.ts on their own against a real OpenSSH sshd: what the bundled
// action relies on for every step, checked where a race or a stray process would hide in the
// end-to-end runs.
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { systemClock, type RemoteHost, type Stream } from '../../src/ports.js'
import { createSshConnector } from '../../src/ssh/connector.js'
import { RecordingLog, settingsWith } from '../../test/fakes/fakes.js'
import { isRunning } from '../../test/fleet/processes.js'
import { startRelay } from '../../test/fleet/relay.js'
import { connectionInputs, startSshFleet, type SshFleet } from '../../test/fleet/ssh-hosts.js'

let fleet: SshFleet
let host: RemoteHost

/** Connects to the first host of `to` as the action would, logging to `log`. */
const connect = (to = fleet, log = new RecordingLog()) => {
  const settings = settingsWith(connectionInputs(to))
  return createSshConnector(settings.ssh, systemClock, log).connect(settings.hosts[0], new AbortController().signal)
}

beforeAll(async () => {
  fleet = await startSshFleet(1)
  host = await connect()
})

/** Runs `command` on `on`, collecting its lines per stream. */
async function run(command: string, { on = host, timeoutMs = 10_000, signal = new AbortController().signal } = {}) {
  const lines: Record<Stream, string[]> = { stdout: [], stderr: [] }
  const result = await on.exec(command, {
    env: [['GREETING', "it's $(not run)"]],
    timeoutMs,
    signal,
    onLine: (line, stream) => lines[stream].push(line)
  })
  return { ...result, ...lines }
}

/**
 * The process sshd started for the channel the command came on (the first ancestor whose parent
 * is sshd): the same long-lived shell for every command, or a new one per channel.
 */
const channelShellOf = async (on = host) =>
  (
    await run(
      'p=$$; while pp=$(awk \'{ print $4 }\' /proc/$p/stat) && [ "$(cat /proc/$pp/comm)" != sshd ]; do p=$pp; done; echo $p',
      { on }
    )
  ).stdout[0]

afterAll(async () => {
  await host?.close()
  await fleet?.close()
})

describe('SshRemoteHost.exec', () => {
  it('reports the exit status of 400 quick commands, 10 at a time (found lost under load by the benchmark)', async () => {
    const codes: (number | null)[] = new Array(400)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < codes.length; i = next++) {
        const result = await host.exec(`exit ${i % 3}`, {
          env: [],
          timeoutMs: 10_000,
          signal: new AbortController().signal,
          onLine: () => undefined
        })
        codes[i] = result.code
      }
    }
    await Promise.all(Array.from({ length: 10 }, worker))
    expect(codes).toEqual(Array.from({ length: 400 }, (_, i) => i % 3))
  })
})

/**
 * Runs commands until two in a row came through the same shell: the host's long-lived shell is
 * ready (a host's first command runs on a channel of its own while the shell starts).
 */
async function steadyShell() {
  let last = await channelShellOf()
  for (let i = 0; i < 50; i++) {
    const next = await channelShellOf()
    if (next === last) return next
    last = next
  }
  throw new Error('commands never came through one long-lived shell')
}

/** A command that prints its pid and sleeps, timed out after 500 ms on `on`. */
async function timeOutASleep(on: RemoteHost) {
  let pid = 0
  const started = Date.now()
  const result = await on.exec('echo $$; exec sleep 30', {
    env: [],
    timeoutMs: 500,
    signal: new AbortController().signal,
    onLine: (line) => (pid ||= Number(line)) // the shell may then print 'Terminated'
  })
  expect(pid).toBeGreaterThan(1)
  return { result, pid, elapsedMs: Date.now() - started }
}

describe('commands through one long-lived shell', () => {
  it('runs one command after another in the same shell, each with its own output, status and variables', async () => {
    const shell = await steadyShell()
    expect(shell).toMatch(/^\d+$/)
    // stderr comes merged into stdout, in order.
    const first = await run('echo "$GREETING"; echo oops >&2; echo out; printf "no newline"; exit 3')
    expect(first).toEqual({
      code: 3,
      timedOut: false,
      stdout: ["it's $(not run)", 'oops', 'out', 'no newline'],
      stderr: []
    })
    const broken = await run('if then')
    expect(broken.code).toBe(2)
    expect(broken.stdout.join('\n')).toMatch(/Syntax error/)
    const codes = []
    for (let i = 0; i < 30; i++) codes.push((await run(`exit ${i % 3}`)).code)
    expect(codes).toEqual(Array.from({ length: 30 }, (_, i) => i % 3))
    expect(await channelShellOf()).toBe(shell)
  })

  it('ends a command only once nothing holds its output, as a channel does (a background child writing late)', async () => {
    const started = Date.now()
    const result = await run('(sleep 1; echo late) & echo early')
    expect(result).toMatchObject({ code: 0, stdout: ['early', 'late'] })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('ends a timed-out command alone: the shell, and an app an earlier command started, go on', async () => {
    const shell = await steadyShell()
    const app = Number((await run('sleep 300 >/dev/null 2>&1 & echo $!')).stdout[0])
    try {
      const { result, pid, elapsedMs } = await timeOutASleep(host)
      expect(result).toEqual({ code: null, timedOut: true })
      expect(elapsedMs).toBeLessThan(2500) // ended, not given up after the grace period
      expect(isRunning(pid)).toBe(false)
      expect(isRunning(app)).toBe(true)
      expect(await channelShellOf()).toBe(shell)
    } finally {
      process.kill(app)
    }
  })

  it('ends a cancelled command, and the shell goes on', async () => {
    const shell = await steadyShell()
    const controller = new AbortController()
    let pid = 0
    const running = host.exec('echo $$; exec sleep 30', {
      env: [],
      timeoutMs: 30_000,
      signal: controller.signal,
      onLine: (line) => {
        pid = Number(line)
        controller.abort()
      }
    })
    const result = await running
    expect(result.code).not.toBe(0)
    expect(result.timedOut).toBe(false)
    expect(isRunning(pid)).toBe(false)
    expect(await channelShellOf()).toBe(shell)
  })

  it('waits for the shell, rather than reconnecting, on a host that allows one session at a time', async () => {
    const single = await startSshFleet(1, { maxSessions: 1 })
    const log = new RecordingLog()
    const one = await connect(single, log)
    try {
      const results = []
      for (let i = 0; i < 5; i++) results.push(await run(`echo "$GREETING"; exit ${i}`, { on: one }))
      expect(results.map(({ code, stdout }) => ({ code, stdout }))).toEqual(
        Array.from({ length: 5 }, (_, i) => ({ code: i, stdout: ["it's $(not run)"] }))
      )
      expect(log.lines.filter((line) => /reconnect/.test(line))).toEqual([])
    } finally {
      await one.close()
      await single.close()
    }
  })

  it.each([
    ['runs on a channel of its own', 50, 0],
    ['fails at once, never reconnecting, on a host that allows one session at a time', 1, null]
  ])(
    'a sideline command (the lock beat) beside a running command %s; the command is undisturbed',
    async (_, maxSessions, code) => {
      const other = await startSshFleet(1, { maxSessions })
      const log = new RecordingLog()
      const one = await connect(other, log)
      try {
        for (let i = 0; i < 3; i++) await run('true', { on: one }) // the shell is up
        const busy = run('sleep 1; echo done', { on: one })
        await new Promise((resolve) => setTimeout(resolve, 200))
        const started = Date.now()
        const beside = await one.exec('echo beat', {
          env: [],
          timeoutMs: 5000,
          signal: new AbortController().signal,
          onLine: () => undefined,
          sideline: true
        })
        expect({ code: beside.code, quick: Date.now() - started < 700 }).toEqual({ code, quick: true })
        expect(await busy).toMatchObject({ code: 0, stdout: ['done'] })
        // Free again: in the shell, whatever the host allows.
        expect(
          await one.exec('true', {
            env: [],
            timeoutMs: 5000,
            signal: new AbortController().signal,
            onLine: () => undefined,
            sideline: true
          })
        ).toEqual({ code: 0, timedOut: false })
        expect(log.lines.filter((line) => /reconnect/.test(line))).toEqual([])
      } finally {
        await one.close()
        await other.close()
      }
    }
  )

  it('a sideline command (the lock beat) on a waiting host whose connection dropped reconnects it and runs', async () => {
    const other = await startSshFleet(1)
    const log = new RecordingLog()
    const one = await connect(other, log)
    try {
      await run('true', { on: one })
      other.hosts[0].dropConnections()
      await pause(500) // the client sees the connection close (sshd's end of it was killed)
      const beat = await one.exec('echo beat', {
        env: [],
        timeoutMs: 5000,
        signal: new AbortController().signal,
        onLine: () => undefined,
        sideline: true
      })
      expect(beat).toEqual({ code: 0, timedOut: false })
      expect(log.lines.filter((line) => /was lost .*; reconnecting/.test(line))).toHaveLength(1)
      expect(await run('echo after', { on: one })).toMatchObject({ code: 0, stdout: ['after'] })
    } finally {
      await one.close()
      await other.close()
    }
  })

  it.each([
    ['in the long-lived shell', false],
    ['on a channel of its own (no setsid on the PATH)', true]
  ])(
    'ends a timed-out command %s through its own session, on a host that allows one session at a time',
    async (_, bare) => {
      const single = await startSshFleet(1, { maxSessions: 1 })
      const bin = mkdtempSync(join(tmpdir(), 'rollout-nosetsid-'))
      chmodSync(bin, 0o755)
      for (const tool of ['sh', 'sleep', 'cat']) symlinkSync(`/bin/${tool}`, join(bin, tool))
      const restore = bare ? single.beforeEveryLogin(`PATH=${bin}; export PATH`) : () => undefined
      const log = new RecordingLog()
      const one = await connect(single, log)
      try {
        for (let i = 0; i < 3; i++) await run('true', { on: one }) // the shell (if any) is up
        const { result, pid, elapsedMs } = await timeOutASleep(one)
        expect(result).toEqual({ code: null, timedOut: true })
        expect(elapsedMs).toBeLessThan(2500)
        expect(isRunning(pid)).toBe(false)
        expect(await run('echo "$GREETING"', { on: one })).toMatchObject({ code: 0, stdout: ["it's $(not run)"] })
        expect(log.lines.filter((line) => /reconnect/.test(line))).toEqual([])
      } finally {
        await one.close()
        restore()
        await single.close()
        rmSync(bin, { recursive: true, force: true })
      }
    }
  )

  it('falls back to a channel per command where the shell cannot run them (no setsid on the PATH)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'rollout-nosetsid-'))
    chmodSync(bin, 0o755) // for the test user
    symlinkSync('/bin/sh', join(bin, 'sh'))
    const restore = fleet.beforeEveryLogin(`PATH=${bin}; export PATH`)
    const bare = await connect()
    try {
      const first = await run('echo "$GREETING"; exit 4', { on: bare })
      expect(first).toMatchObject({ code: 4, stdout: ["it's $(not run)"] })
      // Each command on a channel of its own: a new shell from sshd each time.
      const shells = []
      for (let i = 0; i < 5; i++) shells.push(await channelShellOf(bare))
      expect(new Set(shells).size).toBe(5)
    } finally {
      await bare.close()
      restore()
      rmSync(bin, { recursive: true, force: true })
    }
  })
})

describe('a connection reset on the way (a relay in front of the jump host resets it)', () => {
  it('a command running then is reported lost, with why; the next one reconnects through the jump host', async () => {
    const [target] = fleet.hosts
    const relay = await startRelay(target.address, target)
    const log = new RecordingLog()
    const jump = `${fleet.user}@${relay.address}:${relay.port}`
    const settings = settingsWith({
      ...connectionInputs(fleet),
      'jump-host': jump,
      'known-hosts': `${fleet.knownHosts()}[${relay.address}]:${relay.port} ${target.hostPublicKey}\n`
    })
    const through = await createSshConnector(settings.ssh, systemClock, log).connect(
      settings.hosts[0],
      new AbortController().signal
    )
    try {
      expect(await run('echo up', { on: through })).toMatchObject({ code: 0, stdout: ['up'] })
      const running = run('echo started; sleep 5', { on: through })
      await pause(500)
      relay.reset()
      expect(await running).toMatchObject({ code: null, timedOut: false, lost: 'read ECONNRESET' })
      relay.reset() // a second reset of nothing at all: the relay carries no connection now
      expect(await run('echo again', { on: through })).toMatchObject({ code: 0, stdout: ['again'] })
      expect(log.lines).toContain(`[${target.entry}] the SSH connection was lost (read ECONNRESET); reconnecting`)
    } finally {
      await through.close()
      await relay.close()
    }
  })
})
