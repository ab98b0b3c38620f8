// migrate-command on fakes, through the whole action (runWith): once, on one host, after every
// host prepared and before any switched (release mode); a step between deploy and start on the
// migrate host (plain mode); skipped when it passed; a failure or a cancel switches nothing. The
// real thing, under traffic, is fleet/migrate.test.ts.
import { describe, expect, it } from '@jest/globals'
import { STATE_MARKERS } from '../../src/ssh/release-scripts.js'
import { JOURNAL_MARKER } from '../../src/ssh/journal-scripts.js'
import { fakeMain } from '../../test/fakes/rollout.js'
import { settingsWith } from '../../test/fakes/fakes.js'
import { describePlan } from '../../src/rollout/plan.js'

const RELEASE = {
  'release-dir': '/srv/app',
  'release-id': 'r2',
  'prepare-command': 'npm ci',
  'migrate-command': 'migrate-db'
}

/** Is this command a step of the kind `what`? */
const is = {
  prepare: (command: string) => command.endsWith('\nnpm ci'),
  migrate: (command: string) => command.includes('migrate-db'),
  switch: (command: string) => command.includes('mv -T .current.$$ current'),
  remove: (command: string) => command.includes("|| rm -rf '/srv/app/releases/r2'"),
  journal: (command: string, step: string) => command.includes('.journal') && command.includes(`"step":"${step}"`)
}

/**
 * fakeMain in release mode; every command of every host in the order they started, as `entry: command`.
 * `history`: each host's .history lines (all on r1 before the run).
 */
function releaseRun(overrides: Record<string, string> = {}, history: (i: number) => string[] = () => []) {
  const main = fakeMain({ ...RELEASE, ...overrides })
  const order: string[] = []
  const m = STATE_MARKERS
  main.hosts.forEach((host, i) => {
    host.onExec = (command) => void order.push(`${host.target.entry}: ${command}`)
    host.reply = (command) =>
      command.includes(m.current) && !command.includes(JOURNAL_MARKER)
        ? {
            lines: [
              `${m.current} r1`,
              `${m.release} r1`,
              m.historyFile,
              ...['kept r1 2026-11-29T00:00:00.000Z run', ...history(i)].map((line) => `${m.history} ${line}`)
            ]
          }
        : {}
  })
  const index = (what: (command: string) => boolean) => order.findIndex((line) => what(line))
  const lastIndex = (what: (command: string) => boolean) => order.length - 1 - [...order].reverse().findIndex(what)
  return { ...main, order, index, lastIndex }
}

describe('migrate-command in release mode', () => {
  it('runs once, on the first host, in the new release with its variables, after every prepare and before any switch', async () => {
    const run = releaseRun()
    let env = new Map<string, string>()
    run.hosts[0].reply = ((reply) => (command: string, calls: number) => {
      if (is.migrate(command)) {
        env = new Map(run.hosts[0].lastEnv)
        return { lines: ['applied 3 migrations'] }
      }
      return reply(command, calls)
    })(run.hosts[0].reply)
    await run.run()
    expect(run.failures).toEqual([])
    const migrations = run.order.filter(is.migrate)
    expect(migrations).toEqual(["deploy@h1: cd '/srv/app/releases/r2'\nmigrate-db"])
    const at = run.index(is.migrate)
    expect(run.lastIndex(is.prepare)).toBeLessThan(at)
    expect(run.order.filter(is.prepare)).toHaveLength(4)
    expect(run.index(is.switch)).toBeGreaterThan(at)
    // Journaled on its host before it runs; recorded there once it passed.
    expect(run.order[at - 1]).toMatch(/^deploy@h1: [\s\S]*"step":"migrate"/)
    expect(run.order.filter((line) => line.includes("'migrated r2 ")).map((line) => line.split(':')[0])).toEqual([
      'deploy@h1'
    ])
    expect(env.get('ROLLOUT_RELEASE_PATH')).toBe('/srv/app/releases/r2')
    expect(env.get('ROLLOUT_PREVIOUS_RELEASE')).toBe('r1')
    expect(env.get('ROLLOUT_INDEX')).toBe('1')
    expect(run.summary()).toMatch(/\| migrate-command \| deploy@h1 \| ✅ passed \| \d+ \|/)
    expect(run.summary()).toContain('applied 3 migrations')
    const report = JSON.parse(run.outputs.report) as { host: string; migration?: { result: string } }[]
    expect(report.map((host) => host.migration?.result ?? null)).toEqual(['passed', null, null, null])
  })

  it('runs on migrate-host when given', async () => {
    const run = releaseRun({ 'migrate-host': 'deploy@h3' })
    await run.run()
    expect(run.order.filter(is.migrate).map((line) => line.split(':')[0])).toEqual(['deploy@h3'])
  })

  it('a re-run skips a migration that passed on any host, saying where and when; migrate: always runs it again', async () => {
    const passed = (i: number) => (i === 1 ? ['migrated r2 2026-11-30T01:02:03.000Z https://gh/runs/9'] : [])
    const once = releaseRun({}, passed)
    await once.run()
    expect(once.failures).toEqual([])
    expect(once.order.filter(is.migrate)).toEqual([])
    expect(once.log.lines).toContain(
      "migrate-command skipped: release r2's migration passed on deploy@h2 at 2026-11-30T01:02:03.000Z (run https://gh/runs/9); migrate: always runs it again"
    )
    expect(once.summary()).toMatch(
      /\| migrate-command \| deploy@h2 \| ⏭️ skipped \| 0 \| passed on deploy@h2 at 2026-11-30T01:02:03/
    )
    const always = releaseRun({ migrate: 'always' }, passed)
    await always.run()
    expect(always.order.filter(is.migrate)).toHaveLength(1)
  })

  it('its output is masked in the summary and the report as every step’s is (a long env value)', async () => {
    const secret = 'hunter2-db-password'
    const run = releaseRun({ env: `DB_PASSWORD=${secret}` })
    run.hosts[0].reply = ((reply) => (command: string, calls: number) =>
      is.migrate(command) ? { code: 1, lines: [`cannot log in with ${secret}`] } : reply(command, calls))(
      run.hosts[0].reply
    )
    await run.run()
    expect(run.summary()).toContain('cannot log in with ***')
    expect(run.outputs.report).toContain('cannot log in with ***')
    expect(`${run.summary()}${run.outputs.report}`).not.toContain(secret)
  })

  it('a failing migration switches no host: the run fails, the release is removed from every host', async () => {
    const run = releaseRun()
    run.hosts[0].reply = ((reply) => (command: string, calls: number) =>
      is.migrate(command) ? { code: 3, lines: ['relation "users" already exists'] } : reply(command, calls))(
      run.hosts[0].reply
    )
    await run.run()
    expect(run.outputs.result).toBe('failure')
    expect(run.failures).toEqual([
      'migrate-command on deploy@h1 failed (exited with code 3); no host left rotation, and the release was removed from every host'
    ])
    expect(run.order.filter(is.switch)).toEqual([])
    expect(run.order.some((line) => line.includes('nginx-status.html') && line.includes('rm -f'))).toBe(false)
    expect(run.order.filter(is.remove).map((line) => line.split(':')[0])).toEqual([
      'deploy@h1',
      'deploy@h2',
      'deploy@h3',
      'deploy@h4'
    ])
    expect(run.order.some((line) => line.includes("'migrated r2 "))).toBe(false)
    expect(run.summary()).toMatch(/Rollout failed[\s\S]*\| migrate-command \| deploy@h1 \| ❌ failed \|/)
    expect(run.summary()).toContain('relation &quot;users&quot; already exists')
    expect(JSON.parse(run.outputs.report)).toEqual([
      expect.objectContaining({ host: 'deploy@h1', migration: expect.objectContaining({ result: 'failed' }) })
    ])
  })

  it('a cancel during it ends it: nothing switched, the release removed', async () => {
    const run = releaseRun()
    run.hosts[0].onExec = ((onExec) => (command: string) => {
      onExec(command)
      if (is.migrate(command)) run.controller.abort()
    })(run.hosts[0].onExec)
    await run.run()
    expect(run.outputs.result).toBe('cancelled')
    expect(run.order.filter(is.switch)).toEqual([])
    expect(run.order.filter(is.remove)).toHaveLength(4)
    expect(run.failures[0]).toMatch(/^migrate-command on deploy@h1 was cancelled; no host left rotation/)
  })

  it('a cancel after the prepare, before it starts: it never starts', async () => {
    const run = releaseRun()
    run.hosts[0].onExec = ((onExec) => (command: string) => {
      onExec(command)
      if (is.journal(command, 'migrate')) run.controller.abort()
    })(run.hosts[0].onExec)
    await run.run()
    expect(run.outputs.result).toBe('cancelled')
    expect(run.order.filter(is.migrate)).toEqual([])
    expect(run.order.filter(is.switch)).toEqual([])
    expect(run.order.filter(is.remove)).toHaveLength(4)
  })

  it('rollback-to never runs it', async () => {
    const run = releaseRun({ 'rollback-to': 'r1', 'release-id': '', 'prepare-command': '' })
    await run.run()
    expect(run.order.filter(is.migrate)).toEqual([])
  })
})

describe('migrate-command without release-dir', () => {
  it('is a step of the first host alone, between its deploy and its start', async () => {
    const main = fakeMain({ 'deploy-command': 'tar xzf app.tgz', 'migrate-command': 'migrate-db' })
    await main.run()
    expect(main.failures).toEqual([])
    const steps = (i: number) =>
      main.hosts[i].commands.filter((c) => ['tar xzf', 'migrate-db', 'appctl start'].some((s) => c.includes(s)))
    expect(steps(0)).toEqual(['tar xzf app.tgz', 'migrate-db', 'appctl start'])
    expect(steps(1)).toEqual(['tar xzf app.tgz', 'appctl start'])
    expect(main.summary()).toMatch(/\| migrate-command \| deploy@h1 \| ✅ passed \|/)
  })

  it('a failing migration fails that host (rolled back) and stops the rollout, whatever max-failed-hosts allows', async () => {
    const main = fakeMain({
      'deploy-command': 'tar xzf app.tgz',
      'rollback-command': 'restore-previous',
      'migrate-command': 'migrate-db',
      'batch-size': '1',
      'max-failed-hosts': '3'
    })
    main.hosts[0].reply = (command) => (command === 'migrate-db' ? { code: 1, lines: ['no database'] } : {})
    await main.run()
    expect(main.outputs.result).toBe('failure')
    expect(JSON.parse(main.outputs['skipped-hosts'])).toEqual(['deploy@h2', 'deploy@h3', 'deploy@h4'])
    expect(main.hosts[0].commands).toContain('restore-previous')
    expect(main.failures[0]).toMatch(/stopped because the migration failed on deploy@h1/)
    expect(main.summary()).toMatch(/\| migrate-command \| deploy@h1 \| ❌ failed \|/)
  })
})

describe('the dry run', () => {
  it('says where and when it runs, in either mode', () => {
    const release = describePlan(settingsWith({ ...RELEASE, 'deploy-command': '', 'migrate-host': 'h2' })).join('\n')
    expect(release).toContain(
      'migrate (once, on deploy@h2, up to 600000 ms, in /srv/app/releases/r2 after every host prepared, before any host switches;'
    )
    const plain = describePlan(settingsWith({ 'migrate-command': 'migrate-db' })).join('\n')
    expect(plain).toContain('migrate (once, on deploy@h1, up to 600000 ms, between its deploy and its start;')
  })

  it('says it is skipped when the hosts say it passed', async () => {
    const run = releaseRun({ 'dry-run': 'true' }, (i) => (i === 0 ? ['migrated r2 2026-11-30T01:02:03.000Z run'] : []))
    await run.run()
    expect(run.order.filter(is.migrate)).toEqual([])
    expect(run.summary()).toContain(
      'migrate-command: skipped: release r2&#39;s migration passed on deploy@h1 at 2026-11-30T01:02:03.000Z'
    )
  })
})
