// diagnose-command through dist/ on the real fleet (issue 22, part 2): a release that never turns
// healthy leaves the app's last log lines and its last health response in the summary; a diagnose
// that hangs is ended at its bound; a secret it prints is masked in the log, summary and report.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { describe, expect, it } from '@jest/globals'
import { asRoot, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { runAction, type ActionRun } from '../../test/run-action.js'

let fleet: Fleet
withFleet(2, 'rollout-diagnose-', (started) => (fleet = started))

/** The password input's value, also handed to the hosts in env: what a careless diagnose prints. */
const SECRET = 'pw-Diag-7731-never-shown'
const APP_LOG = 'tail -n 50 "$HOST_ROOT/app.log"'

interface HostEntry {
  host: string
  result: string
  diagnostics?: {
    outputTail: string[]
    lastHealth: { answer: string; lines: string[] } | null
    diagnose: { problem: string | null; durationMs: number; output: string; droppedBytes: number } | null
  }
}

const reportOf = (run: ActionRun) => JSON.parse(run.outputs.report) as HostEntry[]
/** stdout as a runner would keep it, without the add-mask commands that hand it the secrets. */
const logOf = (run: ActionRun) =>
  run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')

;(asRoot ? describe : describe.skip)('diagnose-command on 2 hosts behind HAProxy', () => {
  it('a release that never turns healthy: the app log and the last health response in the summary, the secret masked', async () => {
    await fleet.reset((_host, i) => [{ name: 'v1' }, { name: 'v2', flags: i === 0 ? '--never-healthy' : undefined }])
    const run = await runAction(
      fleet.inputs({
        'health-timeout': '3s',
        password: SECRET,
        env: `RELEASE=v2\nDB_PASSWORD=${SECRET}`,
        'diagnose-command': `${APP_LOG}; echo "db password: $DB_PASSWORD"`
      })
    )
    expect(run.code).toBe(1)
    const [first] = fleet.hosts
    // report-file has the diagnosis whole; the report output its last 2,000 characters.
    const entry = (JSON.parse(run.reportFile ?? '[]') as HostEntry[])[0]
    expect(entry).toMatchObject({ host: first.entry, result: 'failed' })
    const diagnose = entry.diagnostics?.diagnose
    const compact = reportOf(run)[0].diagnostics?.diagnose?.output ?? ''
    expect(compact.length).toBeLessThanOrEqual(2002)
    expect(diagnose?.output.endsWith(compact.replace(/^…\n/, ''))).toBe(true)
    expect(diagnose?.problem).toBeNull()
    expect(diagnose?.output).toMatch(/started version=v2 on /)
    expect(diagnose?.output).toMatch(/error: cannot reach the database/)
    expect(diagnose?.output.split('\n').at(-1)).toBe('db password: ***')
    expect(entry.diagnostics?.lastHealth).toEqual({ answer: 'HTTP 503', lines: ['starting version=v2'] })
    // The summary: collapsed under the host, escaped.
    expect(run.summary).toMatch(/<details><summary>[^\n]*health not healthy after 3000 ms: HTTP 503/)
    expect(run.summary).toContain('Last health response: HTTP 503\n\n<pre>starting version=v2</pre>')
    expect(run.summary).toMatch(/diagnose-command exited 0 in \d+ ms:\n\n<pre>[^<]*started version=v2 on /)
    expect(run.summary).toContain('error: cannot reach the database (--never-healthy)')
    // The log: a group of its own.
    expect(logOf(run)).toMatch(/^::group::Diagnose [^\n]*exited 0[^\n]*\n(\[[^\n]*\] [^\n]*\n)+::endgroup::/m)
    expect(logOf(run)).toContain(`[${first.entry}] db password: ***`)
    for (const text of [logOf(run), run.stderr, run.summary, run.reportFile ?? '', ...Object.values(run.outputs)])
      expect(text).not.toContain(SECRET)
  })

  it('a diagnose that hangs is ended at its bound (command-timeout, shorter than 30 s), and the host ends as it would have', async () => {
    await fleet.reset()
    const [first] = fleet.hosts
    const failStart = join(first.root, 'fail-start')
    writeFileSync(failStart, '')
    try {
      const started = Date.now()
      const run = await runAction(
        fleet.inputs({ 'command-timeout': '4s', 'diagnose-command': `echo reading; ${APP_LOG} >/dev/null; sleep 67` })
      )
      const elapsedMs = Date.now() - started
      expect(run.code).toBe(1)
      const entry = reportOf(run)[0]
      expect(entry.result).toBe('failed')
      expect(entry.diagnostics?.outputTail).toEqual([expect.stringMatching(/^start refused: .*fail-start exists$/)])
      expect(entry.diagnostics?.diagnose).toMatchObject({
        problem: 'ended at its bound of 4000 ms',
        output: expect.stringMatching(/^reading\n/) // and the shell's word for its end (`Terminated`)
      })
      expect(entry.diagnostics?.diagnose?.durationMs).toBeGreaterThanOrEqual(4000)
      expect(entry.diagnostics?.diagnose?.durationMs).toBeLessThan(8000)
      expect(elapsedMs).toBeLessThan(40_000)
      expect(run.summary).toContain('Last output of `start`:')
      expect(run.summary).toContain('diagnose-command ended at its bound of 4000 ms')
      expect(run.stdout).toMatch(
        /::warning title=Diagnose failed::[^\n]*diagnose-command ended at its bound of 4000 ms/
      )
      // Ended on the host too: its process group was killed.
      await pause(2000)
      expect(() => execFileSync('pgrep', ['-f', 'sleep 67'])).toThrow()
      expect(fleet.healthFilePresent(first)).toBe(false)
    } finally {
      rmSync(failStart, { force: true })
    }
  })
})
