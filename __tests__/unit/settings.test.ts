import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { getSettings, SettingsError } from '../../src/inputs/get-settings.js'
import { BAD_INPUTS, KNOWN } from '../../test/fakes/bad-inputs.js'
import { BASE_INPUTS, TEST_KEY, readerOf, settingsWith } from '../../test/fakes/fakes.js'

const scratch = mkdtempSync(join(tmpdir(), 'rollout-settings-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function problemsOf(overrides: Record<string, string | undefined>): string[] {
  const inputs: Record<string, string> = { ...BASE_INPUTS }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete inputs[name]
    else inputs[name] = value
  }
  try {
    getSettings(readerOf(inputs))
  } catch (error: unknown) {
    if (error instanceof SettingsError) return [...error.problems]
    throw error
  }
  return []
}

describe('getSettings', () => {
  it('applies the documented defaults', () => {
    const settings = settingsWith()
    expect(settings).toMatchObject({
      ssh: { connectTimeoutMs: 20_000, connectAttempts: 3 },
      loadBalancer: {
        healthFile: '/srv/status/nginx-status.html',
        offline: { waitMs: 8000 },
        online: { waitMs: 8000 },
        probeIntervalMs: 500
      },
      commands: { timeoutMs: 600_000 },
      batches: { size: [{ count: 1 }], pauseMs: 0, maxFailedHosts: 0 },
      dryRun: false
    })
    expect(settings.health).toMatchObject({ statuses: [{ from: 200, to: 200 }], timeoutMs: 50_000, intervalMs: 1000 })
    expect(settings.hosts.map((h) => [h.user, h.host, h.port])).toEqual([
      ['deploy', 'h1', 22],
      ['deploy', 'h2', 22],
      ['deploy', 'h3', 22],
      ['deploy', 'h4', 22]
    ])
    expect(Object.isFrozen(settings)).toBe(true)
  })

  it('fills username and port for hosts that name neither', () => {
    const settings = settingsWith({ hosts: 'web1\nops@web2:2200', username: 'app', port: '2022' })
    expect(settings.hosts.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual(['app@web1:2022', 'ops@web2:2200'])
  })

  it('warns about risky settings', () => {
    const settings = settingsWith({ 'online-wait': '100ms' })
    expect(settings.warnings.join('\n')).toMatch(/strict-host-key-checking is false/)
    expect(settings.warnings.join('\n')).toMatch(/online-wait \(100 ms\) is shorter than health-interval \(1000 ms\)/)
  })

  it('accepts a private key from a file path and trusts known-hosts that cover every host', () => {
    const keyFile = join(scratch, 'id_ed25519')
    writeFileSync(keyFile, TEST_KEY, { mode: 0o600 })
    const settings = settingsWith({
      'private-key': keyFile,
      hosts: 'u@h1:2222',
      'strict-host-key-checking': 'true',
      'known-hosts': KNOWN
    })
    expect(settings.ssh.auth.privateKey).toContain('OPENSSH PRIVATE KEY')
    expect(settings.ssh.hostKeys.strict).toBe(true)
  })

  it('reads known-hosts-file with known-hosts: a host either covers is trusted', () => {
    const file = join(scratch, 'known_hosts')
    writeFileSync(file, `${KNOWN.replace('[h1]:2222', 'h2')}\n`)
    const inputs = { hosts: 'u@h1:2222, u@h2', 'strict-host-key-checking': 'true', 'known-hosts-file': file }
    expect(problemsOf({ ...inputs, 'known-hosts': KNOWN })).toEqual([])
    expect(settingsWith({ ...inputs, 'known-hosts': KNOWN }).ssh.hostKeys.knownHosts?.entries).toHaveLength(2)
    expect(problemsOf({ ...inputs, 'known-hosts': undefined })).toEqual([
      expect.stringMatching(/^known-hosts: has no entry for u@h1:2222/)
    ])
  })

  it('reads the guards: a floor in hosts (a percentage rounded up), bakes per step, the analysis', () => {
    expect(settingsWith()).toMatchObject({ capacity: undefined, bake: undefined })
    const settings = settingsWith({
      'online-probe': 'lb-says-in',
      'min-in-rotation': '40%',
      'capacity-wait': '30s',
      'batch-size': '1,50%',
      'bake-time': '60s\n10s',
      'analysis-command': 'check-errors'
    })
    expect(settings.capacity).toEqual({ minInRotation: 2, waitMs: 30_000 }) // 40 % of 4 = 1.6 → 2
    expect(settings.bake).toEqual({
      timesMs: [60_000, 10_000],
      analysis: { command: 'check-errors', intervalMs: 10_000, failures: 1 }
    })
    expect(settingsWith({ 'online-probe': 'p', 'min-in-rotation': '3' }).capacity).toEqual({
      minInRotation: 3,
      waitMs: 0
    })
  })

  it('warns that a bake has no effect when every host is in one batch', () => {
    expect(settingsWith({ 'batch-size': '100%', 'bake-time': '1m' }).warnings.join('\n')).toMatch(
      /bake-time has no effect: every host is in one batch/
    )
  })

  it('collects every problem into one error', () => {
    const problems = problemsOf({ hosts: 'a b', 'offline-wait': '5x', 'batch-size': '0' })
    expect(problems).toHaveLength(3)
    expect(() => settingsWith({ hosts: 'a b', 'offline-wait': '5x' })).toThrow(/^Invalid inputs \(2\):\n- hosts 'a b'/)
  })
})

describe('bad input: one clear problem naming the input, the value and the expected form', () => {
  it.each(BAD_INPUTS)('%s', (_name, overrides, expected) => {
    const problems = problemsOf(overrides)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(expected)
  })

  it('max-connections: a batch as large as the bound is fine where every host fits; the default is 50', () => {
    expect(problemsOf({ 'max-connections': '4', 'batch-size': '100%' })).toEqual([])
    expect(problemsOf({ 'max-connections': '3', 'batch-size': '2' })).toEqual([])
    expect(settingsWith().ssh.maxConnections).toBe(50)
  })

  it('quotes the wait as written when a probe has no time to confirm', () => {
    expect(problemsOf({ 'online-probe': 'lb-says in', 'online-wait': '0ms' })).toEqual([
      "online-wait '0ms': must be more than 0 when online-probe is set: it bounds the probe"
    ])
  })

  it('never quotes a secret back', () => {
    const secret = 'hunter2-very-secret-passphrase'
    const problems = problemsOf({ 'private-key': `${secret}\n${secret}`, passphrase: secret, password: secret })
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.join('\n')).not.toContain(secret)
  })

  it('reports a wrong passphrase on an encrypted key without quoting either', async () => {
    const { execFileSync } = await import('node:child_process')
    const file = join(scratch, 'id_encrypted')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right-passphrase', '-f', file], { input: 'y\n' })
    const { readFileSync } = await import('node:fs')
    const key = readFileSync(file, 'utf8')
    expect(problemsOf({ 'private-key': key, passphrase: 'wrong-passphrase' })).toEqual([
      'private-key: cannot be decrypted: the passphrase is missing or wrong'
    ])
    expect(problemsOf({ 'private-key': key, passphrase: 'right-passphrase' })).toEqual([])
  })
})
