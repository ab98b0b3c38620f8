import { describe, expect, it } from '@jest/globals'
import { failureMessage, renderGantt, renderOutputs, renderSummary, writeReport } from '../../src/rollout/report.js'
import { escapeHtml } from '../../src/rollout/markdown.js'
import { runBatches } from '../../src/rollout/batches.js'
import { FakeClock, RecordingLog, fakeFleet, fakeRolloutDeps, settingsWith } from '../../test/fakes/fakes.js'

async function resultWithFailure() {
  const settings = settingsWith({ hosts: 'u@h1,u@h2,u@[::1]:2022' })
  const clock = new FakeClock()
  const hosts = fakeFleet(settings, clock)
  hosts[1].reply = (c) => (c === 'appctl start' ? { code: 3, lines: ['<script>alert(1)</script> & more'] } : {})
  return runBatches(fakeRolloutDeps(settings, hosts, clock))
}

/** A rollout on fake hosts where every step passes. */
function cleanRollout(overrides: Record<string, string> = {}) {
  const settings = settingsWith(overrides)
  const clock = new FakeClock()
  return runBatches(fakeRolloutDeps(settings, fakeFleet(settings, clock), clock))
}

describe('renderOutputs', () => {
  it('lists hosts by result as JSON arrays of the entries as written', async () => {
    const outputs = renderOutputs(await resultWithFailure())
    expect(outputs.result).toBe('failure')
    expect(JSON.parse(outputs['succeeded-hosts'])).toEqual(['u@h1'])
    expect(JSON.parse(outputs['failed-hosts'])).toEqual(['u@h2'])
    expect(JSON.parse(outputs['skipped-hosts'])).toEqual(['u@[::1]:2022'])
    const report = JSON.parse(outputs.report)
    expect(report[1]).toMatchObject({
      host: 'u@h2',
      batch: 2,
      result: 'failed',
      rotation: 'out',
      failedStep: 'start',
      error: 'exited with code 3'
    })
    expect(Object.keys(report[0].stepsMs)).toEqual([
      'offline',
      'offline-wait',
      'stop',
      'start',
      'health',
      'online',
      'online-wait'
    ])
    expect(report[0].stepsMs['offline-wait']).toBe(8000)
    expect(Number(outputs['duration-ms'])).toBeGreaterThan(16_000)
  })
})

describe('renderSummary', () => {
  it('has a heading, a table with every step, escaped details and a gantt chart', async () => {
    const summary = renderSummary(await resultWithFailure())
    expect(summary).toMatch(/^## ❌ Rollout failed\n/)
    expect(summary).toContain(
      '| Host | Batch | Result | In rotation | offline (ms) | offline-wait (ms) | stop (ms) | start (ms) | health (ms) | online (ms) | online-wait (ms) | Total (ms) |'
    )
    expect(summary).toMatch(/\| u@h2 \| 2 \| ❌ failed \| \*\*out\*\* \| 10 \| 8000 \| 10 \| ❌ 10 \|/)
    expect(summary).toContain('Stopped early: 1 host(s) failed and max-failed-hosts is 0.')
    expect(summary).toContain('<pre>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</pre>')
    expect(summary).not.toContain('<script>')
    expect(summary).toContain('```mermaid\ngantt')
  })

  it('keeps mermaid-breaking characters out of gantt section names', async () => {
    const result = await cleanRollout({ hosts: 'u@[::1]:2022' })
    const gantt = renderGantt(result)
    expect(gantt).toContain('section u@[..1].2022')
    expect(gantt).toMatch(/ {2}offline-wait :\d+, \d+/)
  })

  it('escapes host entries', () => {
    expect(escapeHtml(`<b>"it's" & co</b>`)).toBe('&lt;b&gt;&quot;it&#39;s&quot; &amp; co&lt;/b&gt;')
  })
})

describe('writeReport', () => {
  it('sets every output, annotates each failed host and writes the summary', async () => {
    const result = await resultWithFailure()
    const outputs: Record<string, string> = {}
    let summary = ''
    const log = new RecordingLog()
    await writeReport(
      { status: result.status, rollout: result },
      {
        setOutput: (name, value) => (outputs[name] = value),
        writeSummary: async (md) => void (summary = md),
        saveReport: async () => '/tmp/report.json'
      },
      log
    )
    expect(Object.keys(outputs).sort()).toEqual([
      'bakes',
      'duration-ms',
      'failed-hosts',
      'report',
      'report-file',
      'result',
      'skipped-hosts',
      'succeeded-hosts'
    ])
    expect(log.errors).toEqual([
      {
        message: 'u@h2 failed at start: exited with code 3; it was left out of rotation',
        title: 'Rollout failed: u@h2 (start)'
      }
    ])
    expect(log.notices).toEqual([])
    expect(summary).toContain('Rollout failed')
  })

  it('adds a notice with the totals on success', async () => {
    const result = await cleanRollout()
    const log = new RecordingLog()
    await writeReport(
      { status: result.status, rollout: result },
      { setOutput: () => undefined, writeSummary: async () => undefined, saveReport: async () => '' },
      log
    )
    expect(log.notices).toEqual([`4 host(s) rolled out in ${result.durationMs} ms`])
    expect(failureMessage({ status: result.status, rollout: result })).toBeUndefined()
  })

  it('a summary the runner cannot take is one warning; the outputs and the failure stand', async () => {
    const result = await resultWithFailure()
    const outputs: Record<string, string> = {}
    const log = new RecordingLog()
    const outcome = { status: result.status, rollout: result }
    await writeReport(
      outcome,
      {
        setOutput: (name, value) => (outputs[name] = value),
        writeSummary: () => Promise.reject(new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY')),
        saveReport: async () => '/tmp/report.json'
      },
      log
    )
    expect(outputs.result).toBe('failure')
    expect(log.warnings).toEqual([
      'The job summary was not written: Unable to find environment variable for $GITHUB_STEP_SUMMARY'
    ])
    expect(failureMessage(outcome)).toBe(
      'Rollout failed on u@h2; stopped because 1 host(s) failed and max-failed-hosts is 0'
    )
  })

  it('a run that ended before any rollout sets the result output alone', async () => {
    const outputs: Record<string, string> = {}
    const writer = {
      setOutput: (name: string, value: string) => (outputs[name] = value),
      writeSummary: async () => undefined,
      saveReport: async () => '/tmp/report.json'
    }
    await writeReport({ status: 'failure', error: 'Preflight failed' }, writer, new RecordingLog())
    expect(outputs).toEqual({ result: 'failure' })
    expect(failureMessage({ status: 'failure', error: 'Preflight failed' })).toBe('Preflight failed')
  })
})
