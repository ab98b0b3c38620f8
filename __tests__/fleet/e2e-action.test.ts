// The bundled action (dist/index.js, run as a runner runs it) against real OpenSSH sshd hosts.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { freePort } from '../../test/fleet/ports.js'
import { isRunning, track } from '../../test/fleet/processes.js'
import { inRotation, installApp, stepsOn, stopApps, versionOn } from '../../test/fleet/releases.js'
import { connectionInputs, startSshFleet, type SshFleet } from '../../test/fleet/ssh-hosts.js'
import { annotationsOf, runAction } from '../../test/run-action.js'

let fleet: SshFleet
let appPort: number

beforeAll(async () => {
  fleet = await startSshFleet(3)
  appPort = await freePort(fleet.hosts[0].address)
})

afterAll(async () => {
  await stopApps(fleet)
  await fleet?.close()
})

function resetHosts() {
  for (const host of fleet.hosts) installApp(fleet, host, appPort, [{ name: 'v1' }, { name: 'v2' }])
}

function inputs(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...connectionInputs(fleet),
    'offline-command': 'sh "$HOST_ROOT/appctl.sh" offline',
    'online-command': 'sh "$HOST_ROOT/appctl.sh" online',
    'stop-command': 'sh "$HOST_ROOT/appctl.sh" stop',
    'deploy-command': 'sh "$HOST_ROOT/appctl.sh" deploy "$RELEASE"',
    'start-command': 'sh "$HOST_ROOT/appctl.sh" start',
    'health-url': `http://\${ROLLOUT_HOST}:${appPort}/health`,
    'health-body': 'version=v2',
    'health-interval': '100ms',
    'health-timeout': '10s',
    'offline-wait': '300ms',
    'online-wait': '300ms',
    env: 'RELEASE=v2',
    ...overrides
  }
}

describe('dist/index.js against real sshd hosts', () => {
  it('ships no native binaries', () => {
    expect(readdirSync('dist').filter((file) => /\.(node|exe|dll|so)$/.test(file))).toEqual([])
  })

  it('rolls v1 → v2 across 3 hosts, running the steps in order on each', async () => {
    resetHosts()
    const run = await runAction(inputs())
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    for (const host of fleet.hosts) {
      expect(stepsOn(host)).toEqual(['offline', 'stop', 'deploy v2', 'start', 'online'])
      expect(await versionOn(host, appPort)).toBe('v2')
      expect(inRotation(host)).toBe(true)
    }
    expect(run.outputs.result).toBe('success')
    expect(JSON.parse(run.outputs['succeeded-hosts'])).toEqual(fleet.hosts.map((host) => host.entry))
    expect(JSON.parse(run.outputs.report).map((h: { result: string }) => h.result)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded'
    ])
    // Every host's entry in report-file too, under RUNNER_TEMP, for the workflow to upload.
    expect(run.outputs['report-file']).toMatch(/\/runner-temp\/rolling-deploy-\w+\/report\.json$/)
    expect(JSON.parse(run.reportFile ?? '')).toEqual(JSON.parse(run.outputs.report))
    expect(run.summary).toMatch(/^## ✅ Rollout succeeded/)
    expect(annotationsOf(run.stdout)).toEqual([
      {
        level: 'notice',
        title: 'Rollout succeeded',
        message: expect.stringMatching(/^3 host\(s\) rolled out in \d+ ms$/)
      }
    ])
    expect(run.stdout).toContain(`[${fleet.hosts[0].entry}] healthy: HTTP 200`)
    // The runner swallows ::add-mask:: commands; everything else would reach the log.
    const visible = run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'))
    expect(visible.join('\n')).not.toContain('PRIVATE KEY')
    expect(run.stdout).not.toContain('__rollout_pgid__')
  })

  it('leaves a host whose start fails offline, stops, and never touches the third', async () => {
    resetHosts()
    const [first, second, third] = fleet.hosts
    installApp(fleet, second, appPort, [{ name: 'v1' }, { name: 'v2' }])
    const { writeFileSync } = await import('node:fs')
    writeFileSync(`${second.root}/fail-start`, '')
    try {
      const run = await runAction(inputs())
      expect(run.code).toBe(1)
      expect(stepsOn(first)).toEqual(['offline', 'stop', 'deploy v2', 'start', 'online'])
      expect(await versionOn(first, appPort)).toBe('v2')
      expect(inRotation(first)).toBe(true)
      expect(stepsOn(second)).toEqual(['offline', 'stop', 'deploy v2', 'start'])
      expect(inRotation(second)).toBe(false)
      expect(stepsOn(third)).toEqual([])
      expect(await versionOn(third, appPort)).toBe('v1')
      expect(inRotation(third)).toBe(true)
      expect(run.outputs.result).toBe('failure')
      expect(JSON.parse(run.outputs['failed-hosts'])).toEqual([second.entry])
      expect(JSON.parse(run.outputs['skipped-hosts'])).toEqual([third.entry])
      expect(annotationsOf(run.stdout).filter((a) => a.level === 'error')).toEqual([
        {
          level: 'error',
          title: `Rollout failed: ${second.entry} (start)`,
          message: `${second.entry} failed at start: exited with code 1; it was left out of rotation`
        },
        { level: 'error', title: undefined, message: expect.stringMatching(/^Rollout failed on /) }
      ])
      expect(run.stdout).toContain('start refused')
      expect(run.summary).toContain('start refused')
    } finally {
      const { rmSync } = await import('node:fs')
      rmSync(`${second.root}/fail-start`, { force: true })
    }
  })

  it('refuses a host whose key changed before anything changes anywhere', async () => {
    resetHosts()
    const knownHosts = fleet.knownHosts()
    await fleet.swapHostKey(2)
    const run = await runAction(inputs({ 'known-hosts': knownHosts }))
    expect(run.code).toBe(1)
    const third = fleet.hosts[2]
    expect(
      annotationsOf(run.stdout)
        .map((a) => a.message)
        .join('\n')
    ).toContain(
      `host key refused for ${third.entry}: its ssh-ed25519 key ${third.fingerprint} does not match known-hosts`
    )
    for (const host of fleet.hosts) {
      expect(stepsOn(host)).toEqual([])
      expect(await versionOn(host, appPort)).toBe('v1')
    }
  })

  it('stages an upload (one tar stream) before offline, through a jump host', async () => {
    resetHosts()
    const [bastion, target] = fleet.hosts
    const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const release = mkdtempSync(`${tmpdir()}/release-`)
    writeFileSync(`${release}/VERSION`, 'v3\n')
    try {
      const run = await runAction(
        inputs({
          hosts: target.entry,
          'jump-host': bastion.entry,
          upload: release,
          'upload-to': `${target.root}/releases/v3`,
          env: 'RELEASE=v3',
          'health-body': 'version=v3'
        })
      )
      expect(run.code).toBe(0)
      expect(readFileSync(`${target.root}/releases/v3/VERSION`, 'utf8')).toBe('v3\n')
      expect(await versionOn(target, appPort)).toBe('v3')
      expect(stepsOn(bastion)).toEqual([])
      expect(JSON.parse(run.outputs.report)[0].stepsMs).toHaveProperty('upload')
    } finally {
      rmSync(release, { recursive: true, force: true })
    }
  })

  it('kills a command that outlives command-timeout and leaves the host out', async () => {
    resetHosts()
    const [first] = fleet.hosts
    const run = await runAction(
      inputs({
        hosts: first.entry,
        'stop-command': 'sleep 30 & echo $! > "$HOST_ROOT/sleep.pid"; wait',
        'command-timeout': '1s'
      })
    )
    expect(run.code).toBe(1)
    expect(JSON.parse(run.outputs.report)[0]).toMatchObject({
      failedStep: 'stop',
      error: 'timed out after 1000 ms',
      rotation: 'out'
    })
    expect(inRotation(first)).toBe(false)
    const pid = Number(readFileSync(`${first.root}/sleep.pid`, 'utf8'))
    await pause(300)
    expect(isRunning(pid)).toBe(false)
  })

  it('ends a timed-out command that had not yet reported its process group (a slow login)', async () => {
    resetHosts()
    const [first] = fleet.hosts
    const restore = fleet.beforeEveryLogin('sleep 1.5')
    try {
      const run = await runAction(
        inputs({
          hosts: first.entry,
          // Preflight runs no command; the 1 s timeout fires while this one is still logging in.
          'offline-command': 'sleep 2; touch "$HOST_ROOT/survived"',
          'command-timeout': '1s'
        })
      )
      expect(run.code).toBe(1)
      expect(JSON.parse(run.outputs.report)[0]).toMatchObject({
        failedStep: 'offline',
        error: 'timed out after 1000 ms'
      })
    } finally {
      restore()
    }
    await pause(3000)
    expect(readdirSync(first.root)).not.toContain('survived')
  })

  it('logs in with the key an ssh-agent holds (SSH_AUTH_SOCK) when neither private-key nor password is given', async () => {
    resetHosts()
    const dir = mkdtempSync(join(tmpdir(), 'rollout-agent-'))
    const socket = join(dir, 'agent.sock')
    const agent = track(spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' }))
    try {
      for (const deadline = Date.now() + 5000; !existsSync(socket); await pause(20)) {
        if (Date.now() > deadline) throw new Error('ssh-agent did not start')
      }
      execFileSync('ssh-add', ['-q', fleet.clientKeyPath], {
        env: { PATH: process.env.PATH, SSH_AUTH_SOCK: socket },
        stdio: 'ignore'
      })
      const { 'private-key': key, ...withoutKey } = inputs()
      expect(key).toContain('PRIVATE KEY')
      const run = await runAction(withoutKey, { env: { SSH_AUTH_SOCK: socket } })
      expect(run.code).toBe(0)
      for (const host of fleet.hosts) expect(await versionOn(host, appPort)).toBe('v2')
      // The same inputs with no agent: refused before any connection, so the agent did the login.
      const without = await runAction(withoutKey)
      expect(without.code).toBe(1)
      expect(annotationsOf(without.stdout)).toEqual([
        expect.objectContaining({ message: expect.stringContaining('Invalid input: private-key') })
      ])
    } finally {
      agent.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('dry-run connects, prints the plan and changes nothing', async () => {
    resetHosts()
    const run = await runAction(inputs({ 'dry-run': 'true' }))
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Dry run: preflight passed; nothing was changed.')
    for (const host of fleet.hosts) expect(stepsOn(host)).toEqual([])
    // The summary: each host reachable, with the host key it showed (checked against known-hosts)
    // and its health path, proven: the tunnel to the app's address opened.
    expect(run.summary).toMatch(/^## 🔍 Dry run: nothing was changed/)
    for (const host of fleet.hosts) {
      expect(run.summary).toContain(
        `| ${host.entry} | ✅ | ssh-ed25519 ${host.fingerprint} (in known-hosts) | SSH tunnel to ${host.address}:${appPort} | rotation not measured (no online-probe) | free |`
      )
    }
    expect(run.summary).toMatch(/### What a run with these inputs would do\n\n<pre>3 host\(s\) in 3 batch\(es\)/)
    // report-file: what preflight found on each host.
    const found = JSON.parse(run.reportFile ?? '') as { entry: string; hostKey: string }[]
    expect(found.map((host) => host.entry)).toEqual(fleet.hosts.map((host) => host.entry))
    expect(found[0].hostKey).toBe(`ssh-ed25519 ${fleet.hosts[0].fingerprint} (in known-hosts)`)
  })

  describe('on a runner without job summaries (no GITHUB_STEP_SUMMARY: Gitea, Forgejo, local-action)', () => {
    const levels = (stdout: string) => annotationsOf(stdout).map((a) => `${a.level}: ${a.title ?? ''}`)

    it('a passing rollout exits 0 with its outputs, and one warning instead of an error', async () => {
      resetHosts()
      const run = await runAction(inputs(), { jobSummary: false })
      expect(run.code).toBe(0)
      expect(run.outputs.result).toBe('success')
      expect(JSON.parse(run.outputs['succeeded-hosts'])).toHaveLength(3)
      expect(levels(run.stdout)).toEqual(['notice: Rollout succeeded', 'warning: No job summary'])
      expect(run.stdout).toMatch(
        /job summary was not written: Unable to find environment variable for \$GITHUB_STEP_SUMMARY/
      )
    })

    it("a failing rollout exits 1 with only the rollout's own errors", async () => {
      resetHosts()
      const run = await runAction(inputs({ 'start-command': 'exit 3' }), { jobSummary: false })
      expect(run.code).toBe(1)
      expect(run.outputs.result).toBe('failure')
      expect(levels(run.stdout)).toEqual([
        `error: Rollout failed: ${fleet.hosts[0].entry} (start)`,
        'warning: No job summary',
        'error: '
      ])
      expect(run.stdout).not.toMatch(/::error::Unable to find/)
    })

    it('a dry run exits 0 with no error', async () => {
      const run = await runAction(inputs({ 'dry-run': 'true' }), { jobSummary: false })
      expect(run.code).toBe(0)
      expect(run.outputs.result).toBe('success')
      expect(annotationsOf(run.stdout).filter((a) => a.level === 'error')).toEqual([])
    })
  })
})
