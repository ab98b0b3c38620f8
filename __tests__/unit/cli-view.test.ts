// The command line's output pieces on their own: the live view (from progress events, on a fake
// terminal and clock), the terminal log (masking, no workflow commands) and the JSON report.
import { describe, expect, it } from '@jest/globals'
import { ProgressView } from '../../src/cli/progress-view.js'
import { masker, terminalLog } from '../../src/cli/terminal-log.js'
import { jsonReport } from '../../src/cli/run-cli.js'
import { summaryForTerminal } from '../../src/cli/summary-text.js'
import type { Target } from '../../src/inputs/settings.js'

const target = (entry: string) => ({ entry }) as Target

function terminal(isTTY: boolean) {
  const screen = { isTTY, columns: 60, written: '', write: (text: string) => (screen.written += text) }
  return screen
}

describe('the progress view', () => {
  it('shows each host in flight with its step and times, and the batches done', () => {
    let now = 0
    const view = new ProgressView(terminal(true), () => now)
    const [web1, web2] = [target('deploy@web1'), target('deploy@web2')]
    view.observe({ kind: 'batch', batch: 1, batches: 2, hosts: [web1, web2] })
    view.observe({ kind: 'step', host: web1, step: 'offline' })
    now = 1500
    view.observe({ kind: 'step', host: web2, step: 'offline' })
    now = 2000
    view.observe({ kind: 'step', host: web1, step: 'health' })
    now = 4250
    expect(view.lines()).toEqual([
      'Batch 1/2: 0/2 batch(es) done',
      '  deploy@web1  health     2.3s  (host 4.3s)',
      '  deploy@web2  offline    2.8s  (host 2.8s)'
    ])
    view.observe({ kind: 'host-done', host: web1, outcome: 'succeeded' })
    expect(view.lines()).toEqual(['Batch 1/2: 0/2 batch(es) done', '  deploy@web2  offline    2.8s  (host 2.8s)'])
    view.observe({ kind: 'host-done', host: web2, outcome: 'succeeded' })
    expect(view.lines()).toEqual(['Batch 1/2: 1/2 batch(es) done'])
    view.observe({ kind: 'bake', batch: 1, ms: 60_000 })
    now = 16_250
    expect(view.lines()).toEqual(['Batch 1/2: 1/2 batch(es) done', '  baking batch 1: 12.0s of 60.0s'])
    view.observe({ kind: 'batch', batch: 2, batches: 2, hosts: [web1] })
    expect(view.lines()).toEqual(['Batch 2/2: 1/2 batch(es) done'])
  })

  it('past 12 hosts in flight: the counts, hosts per step and the slowest five, not a line per host', () => {
    let now = 0
    const view = new ProgressView(terminal(true), () => now)
    const web = (n: number) => target(`web-${String(n).padStart(3, '0')}`)
    const batch = (b: number) => Array.from({ length: 50 }, (_, i) => web((b - 1) * 50 + i + 1))
    for (const b of [1, 2]) {
      view.observe({ kind: 'batch', batch: b, batches: 10, hosts: batch(b), total: 500 })
      for (const host of batch(b))
        view.observe({ kind: 'host-done', host, outcome: host.entry === 'web-007' ? 'failed' : 'succeeded' })
    }
    view.observe({ kind: 'batch', batch: 3, batches: 10, hosts: batch(3), total: 500 })
    for (const [i, host] of batch(3).entries()) {
      now = i * 100
      view.observe({ kind: 'step', host, step: i < 30 ? 'health' : 'start' })
    }
    for (const host of batch(3).slice(40)) view.observe({ kind: 'host-done', host, outcome: 'succeeded' })
    now = 10_000
    expect(view.lines()).toEqual([
      'Batch 3/10: 2/10 batch(es) done',
      '  hosts: 110 done (1 failed), 40 in batch 3, 350 to go',
      '  in flight: health 30, start 10',
      '  slowest:',
      '  web-101  health   10.0s  (host 10.0s)',
      '  web-102  health    9.9s  (host 9.9s)',
      '  web-103  health    9.8s  (host 9.8s)',
      '  web-104  health    9.7s  (host 9.7s)',
      '  web-105  health    9.6s  (host 9.6s)'
    ])
    // At 12 in flight or fewer, a line per host again, the counts still there.
    for (const host of batch(3).slice(12, 40)) view.observe({ kind: 'host-done', host, outcome: 'succeeded' })
    expect(view.lines()).toHaveLength(2 + 12)
    expect(view.lines()[1]).toBe('  hosts: 138 done (1 failed), 12 in batch 3, 350 to go')
  })

  it('on a terminal, redraws in place: up and erase over its own lines, log lines above it', () => {
    const screen = terminal(true)
    const view = new ProgressView(screen, () => 0)
    view.observe({ kind: 'batch', batch: 1, batches: 1, hosts: [target('web1')] })
    view.observe({ kind: 'step', host: target('web1'), step: 'stop' })
    screen.written = ''
    view.print('[web1] stopped')
    const upAndErase = '\x1b[1A\x1b[2K'
    expect(screen.written).toBe(
      `${upAndErase.repeat(2)}[web1] stopped\nBatch 1/1: 0/1 batch(es) done\n  web1  stop    0.0s  (host 0.0s)\n`
    )
    screen.written = ''
    view.stop()
    expect(screen.written).toBe(upAndErase.repeat(2))
  })

  it('cuts lines to the terminal’s width, so a wrapped line never throws the erase off', () => {
    const view = new ProgressView(terminal(true), () => 0)
    view.observe({ kind: 'step', host: target(`deploy@${'a'.repeat(80)}`), step: 'start' })
    expect(view.lines()[1].length).toBeGreaterThan(60)
    const screen = terminal(true)
    const narrow = new ProgressView(screen, () => 0)
    narrow.observe({ kind: 'step', host: target(`deploy@${'a'.repeat(80)}`), step: 'start' })
    expect(screen.written.split('\n').every((line) => line.length < 60)).toBe(true)
  })

  it('when piped: no view at all, log lines as they are, no escape sequence', () => {
    const screen = terminal(false)
    const view = new ProgressView(screen, () => 0)
    view.start()
    view.observe({ kind: 'batch', batch: 1, batches: 1, hosts: [target('web1')] })
    view.observe({ kind: 'step', host: target('web1'), step: 'stop' })
    view.print('[web1] stopped')
    view.stop()
    expect(screen.written).toBe('[web1] stopped\n')
  })
})

describe('the terminal log', () => {
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'

  it('prints plain lines, never a workflow command; colour only when asked', async () => {
    const lines: string[] = []
    const log = terminalLog((text) => lines.push(text), [], false)
    log.info('hello')
    log.notice('3 host(s) rolled out', 'Rollout succeeded')
    log.warning('risky')
    log.error('web2 failed at start', 'Rollout failed: web2 (start)')
    expect(await log.group('Batch 1/1: web1', async () => 7)).toBe(7)
    expect(lines).toEqual([
      'hello',
      'notice: Rollout succeeded: 3 host(s) rolled out',
      'warning: risky',
      'error: Rollout failed: web2 (start): web2 failed at start',
      '▸ Batch 1/1: web1'
    ])
    const coloured: string[] = []
    terminalLog((text) => coloured.push(text), [], true).warning('risky')
    expect(coloured).toEqual(['\x1b[33mwarning:\x1b[0m risky'])
  })

  it('masks every secret and each long line of a key, whatever prints it', () => {
    const lines: string[] = []
    const secrets = [KEY, ...KEY.split('\n'), 'pw-123456']
    const log = terminalLog((text) => lines.push(text), secrets, false)
    log.info(`the key is ${KEY}`)
    log.error('password pw-123456 refused', 'pw-123456')
    log.info('line b3BlbnNzaC1rZXktdjEAAAAA alone')
    expect(lines).toEqual(['the key is ***', 'error: ***: password *** refused', 'line *** alone'])
    expect(masker([])('nothing to hide')).toBe('nothing to hide')
  })
})

describe('--json', () => {
  it('is the action’s outputs as one document, the JSON-valued ones parsed', () => {
    const report = [{ host: 'web1', result: 'succeeded' }]
    expect(
      jsonReport(
        {
          result: 'success',
          'succeeded-hosts': '["web1"]',
          'failed-hosts': '[]',
          'skipped-hosts': '[]',
          report: JSON.stringify(report),
          'duration-ms': '1234',
          bakes: '[{"batch":1,"verdict":"passed"}]'
        },
        undefined
      )
    ).toEqual({
      result: 'success',
      'succeeded-hosts': ['web1'],
      'failed-hosts': [],
      'skipped-hosts': [],
      'duration-ms': 1234,
      report,
      bakes: [{ batch: 1, verdict: 'passed' }]
    })
  })

  it('a run that ended before any rollout: its result and why', () => {
    expect(jsonReport({ result: 'failure' }, 'web1: connection refused')).toEqual({
      result: 'failure',
      error: 'web1: connection refused',
      'succeeded-hosts': [],
      'failed-hosts': [],
      'skipped-hosts': [],
      report: [],
      bakes: []
    })
  })
})

describe('the summary for the terminal', () => {
  it('draws the bakes on the timeline and keeps a | inside a table cell', () => {
    const markdown = [
      '| At (ms) | Exit code | Last line |',
      '| --- | --- | --- |',
      '| 3000 | ❌ 1 | 5xx a \\| b: 3 |',
      '',
      '```mermaid',
      'gantt',
      '  section deploy@web1',
      '  offline :0, 1000',
      '  section bakes',
      '  batch-1 :crit, 1000, 4000',
      '```'
    ].join('\n')
    const text = summaryForTerminal(markdown)
    expect(text).toMatch(/^At \(ms\) {2}Exit code {2}Last line\n3000 {5}❌ 1 {7}5xx a \| b: 3$/m)
    expect(text).toContain('Timeline (0 to 4000 ms):')
    // The bake in red, from a quarter of the axis to its end.
    const red = '\x1b[31m█\x1b[0m'
    expect(text).toContain(`bakes       |${' '.repeat(15)}${red.repeat(45)}|`)
  })
})
