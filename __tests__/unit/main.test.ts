import { describe, expect, it } from '@jest/globals'
import { inspectLock } from '../../src/ssh/lock-scripts.js'
import { journalFile, readJournal } from '../../src/ssh/journal-scripts.js'
import { FIND_HTTP_CLIENT } from '../../src/ssh/health-scripts.js'
import { preflightVisiting, PreflightError } from '../../src/rollout/preflight.js'
import type { Connector } from '../../src/ports.js'
import type { Target } from '../../src/inputs/settings.js'
import { FakeClock, FakeHost, fakeConnector, fakeFleet, settingsWith } from '../../test/fakes/fakes.js'
import { fakeMain } from '../../test/fakes/rollout.js'

describe('runWith', () => {
  it('rolls out, writes outputs and summary, and does not fail the step', async () => {
    const { hosts, outputs, failures, run, summary } = fakeMain()
    await run()
    expect(failures).toEqual([])
    expect(outputs.result).toBe('success')
    const journal = (command: string) => command.includes('"$HOME/.rolling-deploy.lock.journal"')
    const measure = "test -e '/srv/status/nginx-status.html'" // rotation, as the health-file adapter reads it
    expect(hosts.every((host) => host.commands.filter((c) => !journal(c)).length === 8 && host.closed)).toBe(true)
    // The deploy lock is taken before the first step and given back after the last; the journal is
    // read after the lock, written before each step that changes the host, cleared at its end.
    for (const host of hosts) {
      // Preflight reads the journal and the host's place in the load balancer (the dry run shows
      // it) before the lock; after it, the rotation the run starts from.
      expect(host.commands[0]).toContain("printf '%s entry %s\\n' __rollout_journal__")
      expect(host.commands[1]).toBe(measure)
      expect(host.commands[2]).toContain('mv -T "$t" "$HOME/.rolling-deploy.lock"')
      expect(host.commands[3]).toBe(measure)
      const steps = host.commands.slice(4, -2)
      // Each step's command right after its journal entry (steps with no command of their own have theirs too).
      steps.forEach((command, i) => expect(journal(command) || journal(steps[i - 1])).toBe(true))
      expect(steps.filter(journal).length).toBeGreaterThan(steps.length / 2)
      expect(host.commands.at(-2)).toMatch(/^rm -f "\$HOME\/.rolling-deploy.lock.journal"\//)
      expect(host.commands.at(-1)).toMatch(/^if grep -qF .* "\$HOME\/.rolling-deploy.lock"\/holder/)
    }
    expect(summary()).toMatch(/Rollout succeeded/)
  })

  it('fails on invalid input without connecting anywhere', async () => {
    const { connector, failures, run } = fakeMain({ 'batch-size': '150%' })
    await run()
    expect(failures).toEqual([
      `Invalid input: batch-size '150%': '150%' is not valid; expected N, N% (1-100%) or a ramp like 1,25%,100%`
    ])
    expect(connector.connected).toEqual([])
  })

  it('changes nothing on any host when one is unreachable at preflight, and names it', async () => {
    const { hosts, failures, outputs, run } = fakeMain({}, ['deploy@h3'])
    await run()
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(
      /^Preflight failed for 1 host\(s\); nothing was changed on any host:\n- deploy@h3: connect ECONNREFUSED$/
    )
    // The others were read while connected (their journal and their health file, one look each), and nothing else ran.
    const reachable = hosts.filter((host) => host.target.entry !== 'deploy@h3')
    const looks = (command: string) =>
      command.includes('__rollout_journal__') ? 'journal' : command.startsWith('test -e ') ? 'health file' : command
    expect(reachable.map((host) => host.commands.map(looks))).toEqual(reachable.map(() => ['journal', 'health file']))
    expect(hosts.find((host) => host.target.entry === 'deploy@h3')?.commands).toEqual([])
    expect(reachable.every((host) => host.closed)).toBe(true)
    expect(outputs.result).toBe('failure')
  })

  it('dry-run connects to every host, prints the plan and runs nothing but a look at the journal, the health file and the lock', async () => {
    const { hosts, connector, log, failures, run } = fakeMain({ 'dry-run': 'true' })
    await run()
    expect(failures).toEqual([])
    expect(connector.connected).toHaveLength(4)
    expect(hosts.flatMap((host) => host.commands)).toEqual(
      hosts.flatMap((host) => [
        readJournal('"$HOME/.rolling-deploy.lock.journal"', journalFile(host.target.entry)),
        "test -e '/srv/status/nginx-status.html'",
        inspectLock(undefined)
      ])
    )
    expect(log.lines.join('\n')).toMatch(
      /Dry run: preflight passed; nothing was changed. The plan:\n4 host\(s\) in 4 batch\(es\)/
    )
  })

  it('dry-run writes the plan and what preflight found on each host to the job summary', async () => {
    const { hosts, outputs, run, summary } = fakeMain({ 'dry-run': 'true' })
    // Host 2's lock is held by another run: the look finds it (LOCK_MARKER, state, age, holder).
    hosts[1].reply = (command) =>
      command === inspectLock(undefined)
        ? { lines: ['__rollout_lock__ held 42', '{"run":"https://github.com/o/r/actions/runs/7","actor":"ana"}'] }
        : {}
    // Host 3's sshd refuses tunnels, and curl is there: its health checks would run with it.
    hosts[2].tunnelRefusal = 'open failed'
    hosts[2].reply = (command) => (command === FIND_HTTP_CLIENT ? { lines: ['curl'] } : {})
    await run()
    expect(outputs.result).toBe('success')
    const markdown = summary() ?? ''
    expect(markdown).toMatch(/^## 🔍 Dry run: nothing was changed\n\nPreflight passed: 4 host\(s\) reachable/)
    expect(markdown).toContain(
      '| Host | Reachable | Host key | Health path | Load balancer (health-file) | Deploy lock |'
    )
    expect(markdown).toContain('| deploy@h1 | ✅ |  | SSH tunnel to 127.0.0.1:8080 | in rotation | free |')
    expect(markdown).toContain(
      '| deploy@h2 | ✅ |  | SSH tunnel to 127.0.0.1:8080 | in rotation | ⚠️ held by https://github.com/o/r/actions/runs/7 (actor ana), for 42 s |'
    )
    expect(markdown).toContain('| deploy@h3 | ✅ |  | curl on the host (sshd refuses tunnels) | in rotation | free |')
    expect(markdown).toMatch(/<pre>4 host\(s\) in 4 batch\(es\)[^]*each host:\n {2}1\. offline: [^]*<\/pre>/)
  })

  it('fails the step when a host fails, naming it', async () => {
    const { hosts, failures, outputs, run } = fakeMain()
    hosts[0].reply = (c) => ({ code: c === 'appctl start' ? 1 : 0 })
    await run()
    expect(outputs.result).toBe('failure')
    expect(failures).toEqual([
      'Rollout failed on deploy@h1; stopped because 1 host(s) failed and max-failed-hosts is 0'
    ])
  })
})

/** Preflight's connections alone: every host connected, none read. */
const preflight = (targets: readonly Target[], connector: Connector, signal: AbortSignal) =>
  preflightVisiting(targets, connector, signal, () => Promise.resolve()).then((visited) =>
    visited.map(({ host }) => host)
  )

describe('preflight', () => {
  it('connects with bounded parallelism, keeping hosts in order', async () => {
    const settings = settingsWith({ hosts: Array.from({ length: 40 }, (_, i) => `u@h${i}`).join('\n') })
    let active = 0
    let peak = 0
    const connector: Connector = {
      async connect(target) {
        peak = Math.max(peak, ++active)
        await new Promise((resolve) => setTimeout(resolve, 2))
        active--
        return new FakeHost(target, new FakeClock())
      }
    }
    const hosts = await preflight(settings.hosts, connector, new AbortController().signal)
    expect(hosts.map((h) => h.target.entry)).toEqual(settings.hosts.map((t) => t.entry))
    expect(peak).toBe(16)
  })

  it('lists every unreachable host', async () => {
    const settings = settingsWith()
    const hosts = fakeFleet(settings, new FakeClock())
    const failure = await preflight(
      settings.hosts,
      fakeConnector(hosts, ['deploy@h1', 'deploy@h4']),
      new AbortController().signal
    ).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(PreflightError)
    expect((failure as PreflightError).failures.map((f) => f.target.entry)).toEqual(['deploy@h1', 'deploy@h4'])
  })
})
