import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { getSettings, SettingsError } from '../src/settings.js'
import { BASE_INPUTS, TEST_KEY, readerOf, settingsWith } from '../__fixtures__/fakes.js'

const scratch = mkdtempSync(join(tmpdir(), 'rollout-settings-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const KNOWN = '[h1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMCAlmgOZc39EY549caQxuNtrFKoeNLtIMA4XMPHthJ/'

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
      connectTimeoutMs: 20_000,
      connectAttempts: 3,
      offlineWaitMs: 8000,
      onlineWaitMs: 8000,
      commandTimeoutMs: 600_000,
      batchSize: [{ count: 1 }],
      batchPauseMs: 0,
      maxFailedHosts: 0,
      dryRun: false,
      offlineCommand: "rm -f '/srv/status/nginx-status.html'",
      onlineCommand: "touch '/srv/status/nginx-status.html'"
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

  it('prefers explicit offline and online commands and quotes the health file', () => {
    expect(settingsWith({ 'health-file': "/srv/it's here", 'online-command': 'lbctl add' })).toMatchObject({
      offlineCommand: "rm -f '/srv/it'\\''s here'",
      onlineCommand: 'lbctl add'
    })
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
    expect(settings.auth.privateKey).toContain('OPENSSH PRIVATE KEY')
    expect(settings.hostKeys.strict).toBe(true)
  })

  it('collects every problem into one error', () => {
    const problems = problemsOf({ hosts: 'a b', 'offline-wait': '5x', 'batch-size': '0' })
    expect(problems).toHaveLength(3)
    expect(() => settingsWith({ hosts: 'a b', 'offline-wait': '5x' })).toThrow(/^Invalid inputs \(2\):\n- hosts 'a b'/)
  })
})

// Each case: the inputs changed, then what the single problem must say (input name, value, expected form).
const BAD_INPUTS: [string, Record<string, string | undefined>, RegExp][] = [
  ['hosts missing', { hosts: undefined }, /^hosts: is required; expected one \[user@\]host\[:port\]/],
  ['hosts only comments', { hosts: '# none\n' }, /^hosts: is required/],
  ['host without name', { hosts: 'u@:22' }, /^hosts 'u@:22': missing host; expected \[user@\]host\[:port\]/],
  ['port out of range', { hosts: 'u@host:99999' }, /^hosts 'u@host:99999': invalid port '99999'/],
  ['space in host', { hosts: 'u@a b' }, /^hosts 'u@a b': invalid host name 'a b'/],
  ['unclosed IPv6 bracket', { hosts: 'u@[::1' }, /^hosts 'u@\[::1': unclosed \[/],
  ['duplicate host', { hosts: 'u@h1\nu@H1:22' }, /^hosts 'u@H1:22': is listed twice/],
  ['no user anywhere', { hosts: 'h1' }, /^hosts 'h1': names no user and the username input is empty/],
  ['bad default port', { port: '0' }, /^port '0': expected a whole number from 1 to 65535/],
  [
    'unknown duration unit',
    { 'offline-wait': '8 parsecs' },
    /^offline-wait '8 parsecs': expected a number with an optional unit ms, s, m or h/
  ],
  ['negative duration', { 'online-wait': '-1s' }, /^online-wait '-1s': expected a number/],
  ['zero health timeout', { 'health-timeout': '0' }, /^health-timeout '0': must be more than 0/],
  ['zero health interval', { 'health-interval': '0ms' }, /^health-interval '0ms': must be more than 0/],
  ['zero command timeout', { 'command-timeout': '0s' }, /^command-timeout '0s': must be more than 0/],
  ['zero connect attempts', { 'connect-attempts': '0' }, /^connect-attempts '0': expected a whole number from 1 to 10/],
  ['negative max-failed-hosts', { 'max-failed-hosts': '-1' }, /^max-failed-hosts '-1': expected a whole number from 0/],
  ['batch-size 0', { 'batch-size': '0' }, /^batch-size '0': '0' is not valid; expected N, N% \(1-100%\)/],
  ['batch-size 150%', { 'batch-size': '150%' }, /^batch-size '150%': '150%' is not valid/],
  ['batch-size abc', { 'batch-size': 'abc' }, /^batch-size 'abc': 'abc' is not valid/],
  [
    'invalid regex',
    { 'health-body': 'version=(' },
    /^health-body 'version=\(': expected a JavaScript regular expression/
  ],
  [
    'bad status range',
    { 'health-status': '299-200' },
    /^health-status '299-200': '299-200' is not valid; expected HTTP status codes/
  ],
  ['status not a code', { 'health-status': 'ok' }, /^health-status 'ok': 'ok' is not valid/],
  [
    'health-url not http',
    { 'health-url': 'ftp://x/' },
    /^health-url 'ftp:\/\/x\/': expected an http:\/\/ or https:\/\/ URL/
  ],
  [
    'health-url unknown variable',
    { 'health-url': 'http://${APP_HOST}:80/' },
    /^health-url 'http:\/\/\$\{APP_HOST\}:80\/': \$\{APP_HOST\} is not a known variable; expected one of ROLLOUT_HOST, /
  ],
  ['health-url relative', { 'health-url': '/health' }, /^health-url '\/health': expected an absolute http/],
  [
    'both health-url and health-command',
    { 'health-command': 'true' },
    /^health-command 'true': cannot be combined with health-url/
  ],
  ['no health check', { 'health-url': undefined }, /^health-url: health-url or health-command is required/],
  [
    'no way to leave the LB',
    { 'health-file': undefined, 'online-command': 'lb add' },
    /^offline-command: health-file or offline-command is required/
  ],
  [
    'health-file unused',
    { 'offline-command': 'a', 'online-command': 'b' },
    /^health-file '\/srv\/status\/nginx-status.html': is unused when both/
  ],
  ['relative health-file', { 'health-file': 'status.html' }, /^health-file 'status.html': expected an absolute path/],
  [
    'no commands',
    { 'stop-command': undefined, 'start-command': undefined },
    /^stop-command: at least one of stop-command, deploy-command or start-command/
  ],
  ['upload without upload-to', { upload: 'package.json' }, /^upload-to: upload and upload-to go together/],
  [
    'upload missing locally',
    { upload: '/nonexistent/pkg.tgz', 'upload-to': '/tmp/pkg.tgz' },
    /^upload '\/nonexistent\/pkg.tgz': does not exist on the runner/
  ],
  ['bad boolean', { 'dry-run': 'yes' }, /^dry-run 'yes': expected true or false/],
  ['bad env line', { env: 'NOT A PAIR' }, /^env 'NOT A PAIR': 'NOT A PAIR' is not valid; expected KEY=value/],
  [
    'malformed private key',
    { 'private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----' },
    /^private-key: is not a private key ssh2 can read/
  ],
  [
    'unreadable private key file',
    { 'private-key': '/nonexistent/id_ed25519' },
    /^private-key: is neither a private key .* nor the path of a readable key file/
  ],
  ['no authentication', { 'private-key': undefined }, /^private-key: is required/],
  [
    'passphrase without key',
    { 'private-key': undefined, password: 'pw', passphrase: 'secret' },
    /^passphrase: is set without private-key/
  ],
  [
    'strict checking without keys',
    { 'strict-host-key-checking': 'true' },
    /^known-hosts: known-hosts or host-fingerprints is required .*ssh-keyscan/
  ],
  [
    'known-hosts matching no host',
    { 'strict-host-key-checking': 'true', hosts: 'u@h1', 'known-hosts': KNOWN },
    /^known-hosts: has no entry for u@h1 \(looked for 'h1'\)/
  ],
  [
    'malformed known-hosts',
    { 'strict-host-key-checking': 'true', 'known-hosts': 'h1 ssh-ed25519' },
    /^known-hosts '.*': line 1 is not valid/
  ],
  [
    'bad fingerprint',
    { 'strict-host-key-checking': 'true', 'host-fingerprints': 'MD5:aa:bb' },
    /^host-fingerprints 'MD5:aa:bb': expected an OpenSSH SHA256 fingerprint/
  ],
  ['bad jump host', { 'jump-host': 'u@bastion:70000' }, /^jump-host 'u@bastion:70000': invalid port/]
]

describe('bad input: one clear problem naming the input, the value and the expected form', () => {
  it.each(BAD_INPUTS)('%s', (_name, overrides, expected) => {
    const problems = problemsOf(overrides)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(expected)
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
