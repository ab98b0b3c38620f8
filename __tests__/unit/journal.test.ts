// The journal: its shell texts run by a real sh in a scratch home (written whole, read back with the
// health file's presence, cleared), and, with scripted hosts, what a run does with what preflight
// found: a host a dead run left or found out of rotation is never called `unchanged` or `in`
// unmeasured, and every step that changes a host is journaled before it runs.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { runBatches } from '../../src/rollout/batches.js'
import { describeLeft, readHostStates, type HostState } from '../../src/rollout/journal.js'
import { renderSummary } from '../../src/rollout/report.js'
import { awaitGroup } from '../../src/ssh/remote-scripts.js'
import {
  JOURNAL_MARKER,
  clearJournal,
  journalDir,
  journalFile,
  readJournal,
  writeJournal
} from '../../src/ssh/journal-scripts.js'
import { FakeClock, FakeRunner, RecordingLog, fakeFleet, settingsWith, withLb, lbFor } from '../../test/fakes/fakes.js'

let home: string
const sh = (script: string) =>
  spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, HOME: home } })
    .stdout.toString()
    .trim()
    .split('\n')

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rollout-journal-'"))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

describe('journal scripts', () => {
  const dir = journalDir(undefined)
  const file = journalFile("deploy@[::1]:22 it's")

  it('write an entry whole, read it back, clear it', () => {
    expect(file).toBe('deploy____1__22_it_s')
    expect(sh(readJournal(dir, file))).toEqual([''])
    sh(writeJournal(dir, file, '{"step":"stop","note":"it\'s $HOME"}'))
    sh(writeJournal(dir, file, '{"step":"health"}'))
    expect(sh(readJournal(dir, file))).toEqual([`${JOURNAL_MARKER} entry {"step":"health"}`])
    expect(readdirSync(join(home, '.rolling-deploy.lock.journal'))).toEqual([file]) // no temporary file left
    sh(clearJournal(dir, file))
    expect(sh(readJournal(dir, file))).toEqual([''])
  })

  it('live next to lock-path when given', () => {
    expect(journalDir('/srv/app/.lock')).toBe("'/srv/app/.lock.journal'")
  })
})

describe('what a run does with what preflight found', () => {
  const ON_RELEASE = { from: 'r2', to: 'r2' }
  const setup = (found: string[], probe?: (host: string) => number) => {
    const settings = settingsWith({
      'release-dir': '/srv/app',
      'release-id': 'r2',
      ...(probe ? { 'online-probe': 'probe-in' } : {})
    })
    const clock = new FakeClock()
    const hosts = fakeFleet(settings, clock).slice(0, 2)
    const entry = JSON.stringify({ run: 'https://gh/runs/7', attempt: 1, release: 'r2', step: 'health', at: 'T' })
    hosts.forEach((host, i) => {
      // The journal's entry, and the health file the health-file adapter measures rotation by.
      host.reply = (command) =>
        command.includes(JOURNAL_MARKER)
          ? { lines: found[i] === 'left' ? [`${JOURNAL_MARKER} entry ${entry}`] : [] }
          : command.startsWith('test -e ')
            ? { code: found[i] === 'out' ? 1 : 0 }
            : {}
    })
    const runner = new FakeRunner(clock, (_, __, env) => probe?.(env.get('ROLLOUT_HOST') ?? '') ?? 0)
    const log = new RecordingLog()
    const releases = hosts.map(() => ON_RELEASE)
    const roll = (states: readonly HostState[]) =>
      runBatches(
        withLb({ settings, hosts, runner, clock, log, signal: new AbortController().signal, releases, states })
      )
    return {
      hosts,
      log,
      roll,
      read: () => readHostStates({ hosts, settings, lb: lbFor(settings, runner, clock), log, releases })
    }
  }

  /** The commands that change the host: not the journal's, nor the health file's test. */
  const notReading = (command: string) => !command.includes('.journal') && !command.startsWith('test -e ')

  it('a host on the release is unchanged only when measured in rotation; out, it is verified and put back', async () => {
    const { hosts, roll, read, log } = setup(['in', 'out'])
    const result = await roll(await read())
    expect(result.hosts.map((host) => [host.outcome, host.rotation])).toEqual([
      ['unchanged', 'in'],
      ['succeeded', 'in']
    ])
    expect(result.hosts[1].timeline.map((step) => step.name)).toEqual(['verify', 'online', 'online-wait'])
    expect(hosts[1].commands.filter(notReading)).toEqual(["touch '/srv/status/nginx-status.html'"])
    expect(log.warnings).toEqual(['deploy@h2: out of rotation before this run'])
    expect(renderSummary(result)).toContain(
      '**Found before this run**\n\n- deploy@h2: out of rotation before this run\n'
    )
  })

  it('a host a dead run left mid-cycle is named and put back, even if it looks in rotation', async () => {
    const { hosts, roll, read, log } = setup(['in', 'left'])
    const states = await read()
    expect(states[1].found.left?.step).toBe('health')
    const left = 'deploy@h2: left by run https://gh/runs/7 (attempt 1) during `health` (release r2, at T)'
    expect(log.warnings).toEqual([`${left}; it is cycled again`])
    const result = await roll(states)
    expect(result.hosts[1].outcome).toBe('succeeded')
    expect(hosts[1].commands.filter(notReading)).toEqual(["touch '/srv/status/nginx-status.html'"])
    expect(renderSummary(result)).toContain(`- ${left}\n`)
    expect(describeLeft({ step: 'stop', at: 'T' })).toBe('left by run (not from GitHub Actions) during `stop` (at T)')
  })

  it.each([
    [0, 'info', 'this run waited until it ended'],
    [3, 'warning', 'past command-timeout (600000 ms): ended']
  ])(
    'waits for the command a dead run left running (its recorded group) before measuring the host: exit %d',
    async (code, level, said) => {
      const { hosts, read, log } = setup(['in', 'left'])
      const reply = hosts[1].reply
      hosts[1].reply = (command, calls) =>
        command.includes(JOURNAL_MARKER)
          ? { lines: [...(reply(command, calls).lines ?? []), `${JOURNAL_MARKER} group 4242 777`] }
          : command === awaitGroup(4242, 600_000, '777')
            ? { code }
            : reply(command, calls)
      const states = await read()
      expect(states[1].found.left?.group).toEqual({ pgid: 4242, start: '777' })
      const waited = hosts[1].commands.indexOf(awaitGroup(4242, 600_000, '777'))
      expect(waited).toBeGreaterThan(-1)
      expect(hosts[1].commands.findIndex((c) => c.startsWith('test -e '))).toBeGreaterThan(waited) // measured after
      expect(hosts[0].commands.some((c) => c.startsWith('running()'))).toBe(false) // nothing left there
      const what = "deploy@h2: the dead run's `health` command was still running (process group 4242)"
      expect(level === 'info' ? log.lines : log.warnings).toContainEqual(expect.stringContaining(`${what}`))
      expect([...log.lines, ...log.warnings].join('\n')).toContain(said)
    }
  )

  it.each([
    [1, 'waits on a new connection'],
    [2, 'refuses to cycle the host, with nothing changed']
  ])("a wait for a dead run's command whose connection drops %d time(s): %s", async (drops) => {
    const { hosts, read, log } = setup(['in', 'left'])
    const reply = hosts[1].reply
    const wait = awaitGroup(4242, 600_000, '777')
    let lost = 0
    hosts[1].reply = (command, calls) =>
      command.includes(JOURNAL_MARKER)
        ? { lines: [...(reply(command, calls).lines ?? []), `${JOURNAL_MARKER} group 4242 777`] }
        : command === wait
          ? lost++ < drops
            ? { lost: 'read ECONNRESET' }
            : { code: 0 }
          : reply(command, calls)
    const reading = read()
    if (drops === 1) {
      await reading
      expect(log.warnings).toContainEqual(
        expect.stringContaining('whether it ended is unknown (exit null): looking again')
      )
      expect(log.lines).toContainEqual(expect.stringContaining('this run waited until it ended'))
    } else {
      await expect(reading).rejects.toThrow(
        'deploy@h2: could not learn whether the `health` command a dead run left (process group 4242) has ended (exit null); nothing was changed on any host'
      )
      expect(hosts[1].commands.some((c) => c.startsWith('test -e '))).toBe(false) // never measured, never cycled
    }
    expect(hosts[1].commands.filter((c) => c === wait)).toHaveLength(2)
  })

  it('with online-probe, rotation is what the probe says (the load balancer’s view)', async () => {
    const { read } = setup(['in', 'in'], (host) => (host === 'h2' ? 1 : 0))
    expect((await read()).map((state) => state.found.rotation)).toEqual(['in', 'out'])
  })

  it('journals each step before it runs, and clears the journal when the host is done', async () => {
    const { hosts, roll, read } = setup(['in', 'out'])
    await roll(await read())
    const journaled = hosts[1].commands
      .filter((c) => !c.startsWith('test -e '))
      .map((c) =>
        c.startsWith("rm -f '/srv/app/.lock.journal'/") ? 'clear' : (/"step":"([a-z-]+)"/.exec(c)?.[1] ?? c)
      )
    expect(journaled.slice(1)).toEqual(['online', "touch '/srv/status/nginx-status.html'", 'online-wait', 'clear'])
  })
})
