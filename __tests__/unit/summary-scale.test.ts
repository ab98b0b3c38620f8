// The job summary and the outputs at 50, 500 and 2,000 hosts: under GitHub's limits (1 MiB per step
// summary, 50,000 characters per Mermaid diagram, 1 MB of outputs per job), failures first, hosts
// that went the same way grouped, and report-file equal to the report.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { REPORT_OUTPUT_LIMIT, renderOutputs, renderSummary, writeReport } from '../../src/rollout/report.js'
import { renderGantt } from '../../src/rollout/gantt.js'
import { renderPlanSummary, type DryRunPlan } from '../../src/rollout/dry-run.js'
import { saveReportFile } from '../../src/runner/report-file.js'
import { hostLines } from '../../src/rollout/host-lines.js'
import { batchTitle } from '../../src/rollout/summary-limits.js'
import { bigResult, hostName } from '../../test/fakes/big-result.js'
import { RecordingLog } from '../../test/fakes/fakes.js'
import { fakeMain } from '../../test/fakes/rollout.js'

const MiB = 1024 * 1024
const MERMAID_MAX_TEXT = 50_000
const bytes = (text: string) => Buffer.byteLength(text, 'utf8')
// A tenth of the hosts fail (at most 40), one batch of the rest never reached.
const fleet = (hosts: number, extra: { batchSize?: number; bakes?: boolean } = {}) =>
  bigResult({
    hosts,
    batchSize: extra.batchSize ?? Math.ceil(hosts / 10),
    failed: Array.from({ length: Math.min(40, hosts / 10) }, (_, i) => 3 + i * 7),
    skippedFrom: hosts - Math.ceil(hosts / 10) + 1,
    bakes: extra.bakes
  })

describe('the job summary at scale', () => {
  const sizes: string[] = []
  afterAll(() => console.log(`Job summary sizes:\n${sizes.join('\n')}`))

  it.each([50, 500, 2000])('%i hosts: under 1 MiB, its gantt under Mermaid’s 50,000 characters', (hosts) => {
    for (const [what, result] of [
      ['batch-size 10%', fleet(hosts)],
      ['batch-size 1, a bake after each batch', fleet(hosts, { batchSize: 1, bakes: true })]
    ] as const) {
      const summary = renderSummary(result)
      const gantt = renderGantt(result)
      sizes.push(`  ${hosts} hosts, ${what}: ${bytes(summary)} bytes (gantt ${gantt.length} characters)`)
      expect(bytes(summary)).toBeLessThan(MiB)
      expect(gantt.length).toBeLessThan(MERMAID_MAX_TEXT)
    }
  })

  it('grows with the failures, not with the fleet, past 50 hosts', () => {
    expect(bytes(renderSummary(fleet(2000)))).toBeLessThan(2 * bytes(renderSummary(fleet(500))))
  })

  it('puts failures first, then hosts grouped by outcome and a row per batch, not per host', () => {
    const summary = renderSummary(fleet(500))
    const needsALook = summary.indexOf('### Needs a look: 40 host(s)')
    expect(needsALook).toBeGreaterThan(0)
    expect(needsALook).toBeLessThan(summary.indexOf('### Hosts'))
    expect(summary.indexOf('### Hosts')).toBeLessThan(summary.indexOf('### Batches'))
    expect(summary).toContain(
      `- 40 host(s) ❌ failed at health: not healthy after 30000 ms: HTTP 503: ${hostName(3)}, `
    )
    // The hosts that went well, each outcome a collapsed list; the failed ones are not listed again.
    expect(summary).toContain(
      `<details><summary>✅ succeeded: 410 host(s)</summary>\n\n${hostName(1)}, ${hostName(2)}, ${hostName(4)}, `
    )
    expect(summary).toContain('… (and 360 more)\n</details>')
    expect(summary).toContain('<summary>⏭️ skipped: 50 host(s)</summary>')
    expect(summary).not.toContain('<summary>❌ failed')
    expect(summary).toContain('| 1 | 50 | 7 ❌ failed, 43 ✅ succeeded | 7 |')
    expect(summary).not.toContain(`| ${hostName(1)} |`)
    // The first FAILED_DETAIL_LIMIT failed hosts with their output; the rest counted.
    expect(summary.match(/<details><summary>deploy@/g)).toHaveLength(20)
    expect(summary).toContain('The output of the other 20 is in the log')
    expect(summary).toContain('`report-file` output')
  })

  it('lists the first 20 hosts found out of rotation before the run, and counts the others', () => {
    const result = fleet(500)
    const found = { ...result, hosts: result.hosts.map((host) => ({ ...host, found: { rotation: 'out' as const } })) }
    const summary = renderSummary(found)
    expect(summary).toContain(`- ${hostName(20)}: out of rotation before this run\n- and 480 more (each in the log)`)
    expect(bytes(summary)).toBeLessThan(bytes(renderSummary(result)) + 2000)
  })

  it('keeps a row per host, failures first, up to 50 hosts', () => {
    const summary = renderSummary(fleet(50))
    expect(summary).toContain(`| ${hostName(1)} | 1 | ✅ succeeded | in |`)
    expect(summary.indexOf('### Needs a look: 5 host(s)')).toBeLessThan(summary.indexOf(`| ${hostName(1)} |`))
    expect(summary).not.toContain('### Batches')
  })

  it('merges batches into ranges past 100 batches, in the table and the gantt', () => {
    const result = fleet(2000, { batchSize: 1 })
    expect(renderSummary(result)).toContain('| 1–20 | 20 |')
    expect(renderGantt(result)).toContain('  section batch 1–20\n  hosts :crit, ')
    expect(renderSummary(fleet(2000, { batchSize: 1, bakes: true }))).toContain(
      '**Bakes**: 1999 of 1999 passed (60000 to 60000 ms each)'
    )
    // 100 ranges of 20, the last 10 never reached: no section.
    expect(renderGantt(result).match(/section batch/g)).toHaveLength(90)
  })
})

describe('the report output and report-file at scale', () => {
  it('keeps every host in the report up to where it fits, report-file always', async () => {
    const small = fleet(500)
    expect(JSON.parse(renderOutputs(small).report)).toHaveLength(500)
    const big = fleet(2000)
    const report = JSON.parse(renderOutputs(big).report) as { host: string; result: string }[]
    expect(renderOutputs(big).report.length).toBeLessThanOrEqual(REPORT_OUTPUT_LIMIT)
    expect(report.length).toBeLessThan(2000)
    // Those that need a look first, then in `hosts` order.
    expect(report.filter((entry) => entry.result === 'failed')).toHaveLength(40)
    expect(report.map((entry) => entry.host)).toEqual(
      big.hosts.map((host) => host.target.entry).filter((entry) => report.some((kept) => kept.host === entry))
    )
  })

  it.each([500, 2000])('%i hosts: report-file has every host, equal to report when it fits', async (hosts) => {
    const result = fleet(hosts)
    const root = await mkdtemp(join(tmpdir(), 'report-file-test-'))
    const outputs: Record<string, string> = {}
    const log = new RecordingLog()
    try {
      await writeReport(
        { status: result.status, rollout: result },
        {
          setOutput: (name, value) => (outputs[name] = value),
          writeSummary: async () => undefined,
          saveReport: (json) => saveReportFile(json, root)
        },
        log
      )
      expect(outputs['report-file']).toMatch(new RegExp(`^${root}/rolling-deploy-\\w+/report\\.json$`))
      type Entry = { diagnostics?: { outputTail: string[] } }
      const file = JSON.parse(await readFile(outputs['report-file'], 'utf8')) as Entry[]
      expect(file).toHaveLength(hosts)
      // The same entries, but the report output cuts a failed host's evidence to its last 5 lines.
      const compact = (entry: Entry) =>
        entry.diagnostics
          ? { ...entry, diagnostics: { ...entry.diagnostics, outputTail: entry.diagnostics.outputTail.slice(-5) } }
          : entry
      if (hosts === 500) {
        expect(file.map(compact)).toEqual(JSON.parse(outputs.report))
        expect(file).not.toEqual(JSON.parse(outputs.report))
        expect(log.warnings).toEqual([])
      } else {
        const everyHost = new Set(file.map((entry) => JSON.stringify(compact(entry))))
        const kept = JSON.parse(outputs.report) as unknown[]
        expect(kept.filter((entry) => !everyHost.has(JSON.stringify(entry)))).toEqual([])
        expect(log.warnings).toEqual([
          expect.stringMatching(
            new RegExp(`^The report output holds \\d+ of 2000 hosts .*every host is in report-file \\(${root}/`)
          )
        ])
      }
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

/** A dry run's findings on `hosts` hosts, as preflight reports them; host 7's lock is held. */
function bigPlan(hosts: number): DryRunPlan {
  return {
    lines: ['500 host(s) in 10 batch(es) of 10%'],
    hosts: Array.from({ length: hosts }, (_, i) => ({
      entry: hostName(i + 1),
      hostKey: `ssh-ed25519 SHA256:${String(i).padStart(43, 'x')} (known_hosts)`,
      healthPath: 'SSH tunnel to 127.0.0.1:8080',
      lbPlace: `app/web-${i + 1} UP`,
      release: 'v41',
      lock: i === 6 ? 'held by https://github.com/o/r/actions/runs/7 (actor ana), for 42 s' : undefined
    })),
    releaseMode: true,
    lock: true,
    lbKind: 'haproxy'
  }
}

describe('the dry run’s summary at scale', () => {
  it.each([50, 500, 2000])('%i hosts: under 1 MiB; past 50, a row per group of hosts found alike', (hosts) => {
    const summary = renderPlanSummary(bigPlan(hosts))
    console.log(`Dry-run summary, ${hosts} hosts: ${bytes(summary)} bytes`)
    expect(bytes(summary)).toBeLessThan(MiB)
    if (hosts === 50) return expect(summary).toContain(`| ${hostName(1)} | ✅ | ssh-ed25519 SHA256:`)
    expect(summary).toContain('| Hosts | Host keys trusted by | Health path | Load balancer (haproxy) |')
    expect(summary).toContain(
      `| ${hosts - 1}: ${hostName(1)}, ${hostName(2)}, ${hostName(3)}, ${hostName(4)}, ${hostName(5)}, ${hostName(6)}, ${hostName(8)}, `
    )
    expect(summary).toContain(
      `| 1: ${hostName(7)} | known_hosts | SSH tunnel to 127.0.0.1:8080 | app/web-7 UP | v41 | ⚠️ held by`
    )
    // The heading, its rule and two groups.
    expect(summary.split('\n').filter((line) => line.startsWith('| '))).toHaveLength(4)
  })
})

describe('report-file from runWith', () => {
  it('a rollout’s is the report, every host', async () => {
    const { outputs, files, run } = fakeMain()
    await run()
    expect(JSON.parse(files.get(outputs['report-file']) ?? '')).toEqual(JSON.parse(outputs.report))
    expect(JSON.parse(outputs.report)).toHaveLength(4)
  })

  it('a dry run’s is what preflight found on each host', async () => {
    const { outputs, files, run } = fakeMain({ 'dry-run': 'true' })
    await run()
    const found = JSON.parse(files.get(outputs['report-file']) ?? '') as { entry: string; healthPath: string }[]
    expect(found.map((host) => host.entry)).toEqual(['deploy@h1', 'deploy@h2', 'deploy@h3', 'deploy@h4'])
    expect(found[0].healthPath).toBe('SSH tunnel to 127.0.0.1:8080')
  })
})

describe('the log at scale', () => {
  const entries = Array.from({ length: 500 }, (_, i) => hostName(i + 1))

  it('past 20 hosts, hosts whose lines say the same are one line; a host that differs keeps its own', () => {
    const texts = entries.map((_, i) => (i === 41 ? 'rotation out' : 'rotation in'))
    expect(hostLines(entries, texts).split('\n')).toEqual([
      `499 host(s): rotation in (${entries.slice(0, 10).join(', ')}, … (and 489 more))`,
      `${hostName(42)}: rotation out`
    ])
    expect(hostLines(entries.slice(0, 20), texts.slice(0, 20)).split('\n')).toHaveLength(20)
  })

  it('names a batch of 50 by its count and first hosts', () => {
    expect(batchTitle(entries.slice(0, 50))).toBe(`50 host(s): ${entries.slice(0, 10).join(', ')}, … (and 40 more)`)
    expect(batchTitle(['web1', 'web2'])).toBe('web1, web2')
  })
})
