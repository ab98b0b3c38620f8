// diagnose-command and the evidence a failed host leaves (issue 22, part 2): when it runs, its
// bounds, masking, and what the summary, the report output and the terminal show without it.
import { describe, expect, it } from '@jest/globals'
import { summaryForTerminal } from '../../src/cli/summary-text.js'
import { LastBytes } from '../../src/rollout/evidence.js'
import { renderOutputs, renderSummary } from '../../src/rollout/report.js'
import type { ExecOptions } from '../../src/ports.js'
import type { FakeHost } from '../../test/fakes/fakes.js'
import { fakeMain, fakeRollout } from '../../test/fakes/rollout.js'

const DIAGNOSE = 'tail -n 50 log/app.log'
const ROLLBACK = 'appctl rollback'

/** `host` fails `command` (exit 1, with `lines`), answers the diagnose with `diagnosis`; the rest succeed. */
function script(host: FakeHost, fails: string, lines: string[], diagnosis: string[]) {
  host.reply = (command) => (command === fails ? { code: 1, lines } : command === DIAGNOSE ? { lines: diagnosis } : {})
}

/** The diagnose on `host` hangs: it runs until the bound it was given, and ends there as the connector ends it. */
function hangDiagnose(host: FakeHost, clock: { time: number }): { boundMs?: number } {
  const seen: { boundMs?: number } = {}
  const exec = host.exec.bind(host)
  host.exec = async (command: string, options: ExecOptions) => {
    if (command !== DIAGNOSE) return exec(command, options)
    host.commands.push(command)
    seen.boundMs = options.timeoutMs
    options.onLine('still reading the journal', 'stdout')
    clock.time += options.timeoutMs
    return { code: null, timedOut: true }
  }
  return seen
}

describe('diagnose-command', () => {
  it('runs on a host whose step failed, after the step and before the rollback, with its ROLLOUT_* variables', async () => {
    const { hosts, run, log } = fakeRollout({ 'diagnose-command': DIAGNOSE, 'rollback-command': ROLLBACK })
    script(hosts[1], 'appctl start', ['start: port in use'], ['app: listening failed', 'app: EADDRINUSE :8080'])
    const result = await run()
    const commands = hosts[1].commands
    expect(commands.slice(commands.indexOf('appctl start'))).toEqual([
      'appctl start',
      DIAGNOSE,
      ROLLBACK,
      "touch '/srv/status/nginx-status.html'"
    ])
    expect(hosts[0].commands).not.toContain(DIAGNOSE)
    expect(result.hosts[1]).toMatchObject({
      outcome: 'rolled-back',
      failedStep: 'start',
      outputTail: ['start: port in use'],
      diagnosis: { output: 'app: listening failed\napp: EADDRINUSE :8080', droppedBytes: 0 }
    })
    expect(result.hosts[1].diagnosis?.problem).toBeUndefined()
    // Its lines, in a group of their own.
    const group = log.lines.findIndex((line) => line.startsWith('>> Diagnose deploy@h2: diagnose-command exited 0'))
    expect(log.lines.slice(group + 1, group + 3)).toEqual([
      '[deploy@h2] app: listening failed',
      '[deploy@h2] app: EADDRINUSE :8080'
    ])
  })

  it('gets the host ROLLOUT_* variables and env', async () => {
    const { hosts, run } = fakeRollout({ 'diagnose-command': DIAGNOSE, env: 'APP=shop' })
    let env: Record<string, string> = {}
    const exec = hosts[0].exec.bind(hosts[0])
    hosts[0].exec = async (command, options) => {
      if (command === DIAGNOSE) env = Object.fromEntries(options.env)
      return command === 'appctl stop' ? { code: 2, timedOut: false } : exec(command, options)
    }
    await run()
    expect(env).toMatchObject({ ROLLOUT_TARGET: 'deploy@h1', ROLLOUT_INDEX: '1', ROLLOUT_BATCH: '1', APP: 'shop' })
  })

  it('runs when the health check gives up, before the rollback; the last health response is kept, its first lines', async () => {
    const { hosts, run } = fakeRollout({
      'diagnose-command': DIAGNOSE,
      'rollback-command': ROLLBACK,
      'health-timeout': '5s'
    })
    const body = Array.from({ length: 30 }, (_, i) => `line ${i + 1}: ${i === 0 ? 'x'.repeat(2000) : 'database down'}`)
    hosts[0].health = (n) => (n < 2 ? { status: 502, body: 'bad gateway' } : { status: 503, body: body.join('\n') })
    // After the rollback the health check passes: its answers must not replace the failure's.
    hosts[0].reply = (command) => {
      if (command === ROLLBACK) hosts[0].health = () => ({ status: 200, body: 'ok' })
      return command === DIAGNOSE ? { lines: ['db: connection refused'] } : {}
    }
    const result = await run()
    const commands = hosts[0].commands
    expect(commands.indexOf(DIAGNOSE)).toBeLessThan(commands.indexOf(ROLLBACK))
    expect(commands.indexOf('appctl start')).toBeLessThan(commands.indexOf(DIAGNOSE))
    const { lastHealth } = result.hosts[0]
    expect(lastHealth?.answer).toBe('HTTP 503')
    expect(lastHealth?.lines).toHaveLength(10)
    expect(lastHealth?.lines[0]).toHaveLength(501) // cut at 500 characters, and an ellipsis
    expect(lastHealth?.lines[9]).toBe('line 10: database down')
    expect(result.hosts[0].outcome).toBe('rolled-back')
  })

  it('keeps the last 64 KiB of its output, and says how much came before', async () => {
    const { hosts, run } = fakeRollout({ 'diagnose-command': DIAGNOSE })
    const lines = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(5, '0')} ${'.'.repeat(94)}`)
    script(hosts[0], 'appctl stop', [], lines)
    const result = await run()
    const diagnosis = result.hosts[0].diagnosis!
    expect(Buffer.byteLength(diagnosis.output)).toBeLessThanOrEqual(64 * 1024)
    expect(Buffer.byteLength(diagnosis.output)).toBeGreaterThan(64 * 1024 - 101)
    expect(diagnosis.output.endsWith(lines[1999])).toBe(true)
    expect(diagnosis.droppedBytes + Buffer.byteLength(diagnosis.output) + 1).toBe(2000 * 101)
    expect(renderSummary(result)).toMatch(/diagnose-command exited 0 in \d+ ms \(its last \d+ bytes of 201999\)/)
  })

  it('ends a hanging diagnose at its bound, 30 s or command-timeout if shorter, and the host ends as it would have', async () => {
    for (const [timeout, bound] of [
      ['10m', 30_000],
      ['5s', 5000]
    ] as const) {
      const { hosts, run, clock, log } = fakeRollout({
        'diagnose-command': DIAGNOSE,
        'rollback-command': ROLLBACK,
        'command-timeout': timeout
      })
      script(hosts[0], 'appctl start', ['boom'], [])
      const seen = hangDiagnose(hosts[0], clock)
      const result = await run()
      expect(seen.boundMs).toBe(bound)
      expect(result.hosts[0]).toMatchObject({ outcome: 'rolled-back', rotation: 'in', failedStep: 'start' })
      expect(result.hosts[0].diagnosis).toMatchObject({
        problem: `ended at its bound of ${bound} ms`,
        durationMs: bound,
        output: 'still reading the journal'
      })
      expect(log.warnings).toContain(`deploy@h1: diagnose-command ended at its bound of ${bound} ms`)
      expect(renderSummary(result)).toContain(`diagnose-command ended at its bound of ${bound} ms in ${bound} ms:`)
    }
  })

  it('reports a diagnose that fails or cannot reach the host, and never changes the host outcome', async () => {
    const { hosts, run } = fakeRollout({ 'diagnose-command': DIAGNOSE, 'max-failed-hosts': '1' })
    hosts[0].reply = (c) =>
      c === 'appctl start' ? { code: 1 } : c === DIAGNOSE ? { code: 127, lines: ['tail: not found'] } : {}
    hosts[1].reply = (c) =>
      c === 'appctl start' ? { code: 1 } : c === DIAGNOSE ? { unreachable: 'connect ECONNREFUSED' } : {}
    const result = await run()
    expect(result.hosts.slice(0, 2).map((h) => [h.outcome, h.rotation, h.failedStep])).toEqual([
      ['failed', 'out', 'start'],
      ['failed', 'out', 'start']
    ])
    expect(result.hosts[0].diagnosis).toMatchObject({ problem: 'exited with code 127', output: 'tail: not found' })
    expect(result.hosts[1].diagnosis).toMatchObject({ problem: 'connect ECONNREFUSED', output: '' })
  })

  it('after a lost connection: runs once the host answers again and is looked at, before the rollback; not if it never answers', async () => {
    const IN_ROTATION = "test -e '/srv/status/nginx-status.html'"
    const { hosts, run } = fakeRollout({
      'diagnose-command': DIAGNOSE,
      'rollback-command': ROLLBACK,
      'health-timeout': '2s',
      'max-failed-hosts': '1'
    })
    hosts[0].reply = (c, n) =>
      c === 'appctl start' && n === 0 ? { lost: 'read ECONNRESET', group: 7 } : c === IN_ROTATION ? { code: 1 } : {}
    hosts[0].health = () => ({ status: hosts[0].commands.includes(ROLLBACK) ? 200 : 503, body: '' })
    let gone = false
    hosts[1].reply = (c) => {
      if (c === 'appctl start') return ((gone = true), { lost: 'read ECONNRESET' })
      return gone ? { unreachable: 'connect ECONNREFUSED' } : {}
    }
    const result = await run()
    expect(hosts[0].commands.slice(-5)).toEqual([
      ':',
      IN_ROTATION,
      DIAGNOSE,
      ROLLBACK,
      "touch '/srv/status/nginx-status.html'"
    ])
    expect(result.hosts[0]).toMatchObject({ outcome: 'rolled-back', diagnosis: { output: '' } })
    expect(hosts[1].commands).not.toContain(DIAGNOSE)
    expect(result.hosts[1].diagnosis).toBeUndefined()
  })

  it('does not run on a host that succeeded, nor when the run was cancelled', async () => {
    const { hosts, run, controller } = fakeRollout({ 'diagnose-command': DIAGNOSE })
    hosts[1].onExec = (command) => {
      if (command === 'appctl stop') controller.abort()
    }
    const result = await run()
    expect(hosts.flatMap((host) => host.commands)).not.toContain(DIAGNOSE)
    expect(result.hosts[1].outcome).toBe('cancelled')
    expect(renderOutputs(result).report).not.toContain('"diagnose":{')
  })
})

describe('a failed host in the summary, the report output and the terminal', () => {
  const SECRET = 'hunter2-correct-horse'

  it('masks a secret input in the diagnose output, the failed step tail, the health body and the error: log, summary, report', async () => {
    const { hosts, run, outputs, summary, log } = fakeMain({
      password: SECRET,
      'diagnose-command': DIAGNOSE,
      'health-timeout': '30ms'
    })
    hosts[0].reply = (command) =>
      command === DIAGNOSE
        ? { lines: [`db password=${SECRET}`, 'db: auth failed'] }
        : { lines: [`starting with ${SECRET}`] }
    hosts[0].health = () => ({ status: 500, body: `DSN postgres://app:${SECRET}@db\nstack…` })
    await run()
    const report = JSON.parse(outputs.report) as { diagnostics: { diagnose: { output: string } } }[]
    expect(report[0].diagnostics.diagnose.output).toBe('db password=***\ndb: auth failed')
    for (const text of [summary() ?? '', outputs.report, log.lines.join('\n'), JSON.stringify(log.errors)])
      expect(text).not.toContain(SECRET)
    expect(summary()).toContain('db password=***')
    expect(summary()).toContain('DSN postgres://app:***@db')
    expect(log.lines).toContain('[deploy@h1] db password=***')
  })

  it('without diagnose-command: the last health response and the failed command tail, escaped, in summary and report', async () => {
    const { hosts, run, outputs, summary } = fakeMain({ 'health-timeout': '30ms', 'max-failed-hosts': '1' })
    hosts[0].health = () => ({ status: 503, body: '<h1>Service Unavailable</h1>\nretry later' })
    hosts[1].reply = (c) =>
      c === 'appctl start' ? { code: 1, lines: ['Error: <config> missing', 'at main.js:3'] } : {}
    await run()
    const text = summary() ?? ''
    expect(text).toContain('Last health response: HTTP 503')
    expect(text).toContain('<pre>&lt;h1&gt;Service Unavailable&lt;/h1&gt;\nretry later</pre>')
    expect(text).toContain('Last output of `start`:')
    expect(text).toContain('<pre>Error: &lt;config&gt; missing\nat main.js:3</pre>')
    expect(text).not.toContain('diagnose-command')
    const report = JSON.parse(outputs.report) as Record<string, unknown>[]
    expect(report[0].diagnostics).toEqual({
      outputTail: [],
      lastHealth: { answer: 'HTTP 503', lines: ['<h1>Service Unavailable</h1>', 'retry later'] },
      diagnose: null
    })
    expect(report[1].diagnostics).toMatchObject({
      outputTail: ['Error: <config> missing', 'at main.js:3'],
      lastHealth: null
    })
    expect(report[2]).not.toHaveProperty('diagnostics')
    // The terminal shows the output as it came: a line starting with `|` is not a table row.
    const terminal = summaryForTerminal(text.replace('at main.js:3', '| not a table |'))
    expect(terminal).toContain('  Error: <config> missing\n  | not a table |')
    expect(terminal).toContain('  <h1>Service Unavailable</h1>\n  retry later')
  })

  it('keeps the tail of the failed step only, 20 lines of at most 500 characters', async () => {
    const { hosts, run } = fakeRollout({ 'max-failed-hosts': '0' })
    const lines = Array.from({ length: 50 }, (_, i) => `start ${i} ${'y'.repeat(i === 49 ? 900 : 1)}`)
    hosts[0].reply = (c) =>
      c === 'appctl stop' ? { lines: ['stopped'] } : c === 'appctl start' ? { code: 1, lines } : {}
    const result = await run()
    expect(result.hosts[0].outputTail).toHaveLength(20)
    expect(result.hosts[0].outputTail[0]).toBe('start 30 y')
    expect(result.hosts[0].outputTail[19]).toHaveLength(501)
  })
})

describe('LastBytes', () => {
  it('keeps the end of one line longer than its limit', () => {
    const kept = new LastBytes(8)
    kept.push('abc')
    kept.push('0123456789xyz')
    expect(kept.text()).toBe('6789xyz')
    expect(kept.droppedBytes + Buffer.byteLength(kept.text()) + 1).toBe(4 + 14)
  })
})
