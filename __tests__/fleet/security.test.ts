// Bad input, authentication, host keys, secrets, shell quoting and HTML escaping, each checked on
// the bundled dist/index.js run as a runner runs it, against real OpenSSH sshd hosts.
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { BAD_INPUTS } from '../../test/fakes/bad-inputs.js'
import { BASE_INPUTS } from '../../test/fakes/fakes.js'
import { stepsOn } from '../../test/fleet/releases.js'
import { connectionInputs, startSshFleet, TEST_USER, type SshFleet } from '../../test/fleet/ssh-hosts.js'
import { annotationsOf, runAction, type ActionRun } from '../../test/run-action.js'

const asRoot = process.getuid?.() === 0
const PASSWORD = 'pw-Zq81-never-shown'
const PASSPHRASE = 'pp-Kx42-never-shown'

let fleet: SshFleet
let scratch: string

beforeAll(async () => {
  // The password is set for the test user, which exists only when the tests run as root.
  fleet = await startSshFleet(2, asRoot ? { password: PASSWORD } : {})
  scratch = mkdtempSync(join(tmpdir(), 'rollout-security-'))
})

afterAll(async () => {
  await fleet?.close()
  rmSync(scratch, { recursive: true, force: true })
})

const errorsOf = (run: ActionRun) => annotationsOf(run.stdout).filter((a) => a.level === 'error')

/** A rollout whose every step is a harmless command: what is checked is how the run talks. */
function inputs(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...connectionInputs(fleet),
    'offline-command': 'echo offline >> "$HOST_ROOT/steps.log"',
    'online-command': 'echo online >> "$HOST_ROOT/steps.log"',
    'start-command': 'echo start >> "$HOST_ROOT/steps.log"',
    'health-command': 'true',
    'offline-wait': '0s',
    'online-wait': '0s',
    ...overrides
  }
}

function resetHosts() {
  for (const host of fleet.hosts) {
    for (const file of readdirSync(host.root)) rmSync(join(host.root, file), { recursive: true, force: true })
  }
}

/** A copy of the fleet's client key, encrypted with a passphrase by ssh-keygen. */
function encryptedClientKey(): string {
  const path = join(scratch, 'encrypted_key')
  rmSync(path, { force: true })
  copyFileSync(fleet.clientKeyPath, path)
  execFileSync('ssh-keygen', ['-q', '-p', '-N', PASSPHRASE, '-f', path])
  return readFileSync(path, 'utf8')
}

describe('bad input: one clear error, and no connection made', () => {
  const listeners: Server[] = []
  let connections = 0
  let base: Record<string, string>

  beforeAll(async () => {
    // The table's default hosts point at listeners that count every connection attempt.
    const ports = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<number>((resolve) => {
            const server = createServer((socket) => {
              connections++
              socket.destroy()
            })
            listeners.push(server)
            server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
          })
      )
    )
    base = { ...BASE_INPUTS, hosts: ports.map((port) => `deploy@127.0.0.1:${port}`).join('\n') }
  })
  afterAll(() => listeners.forEach((server) => server.close()))

  async function expectOneInputError(overrides: Record<string, string | undefined>, expected: RegExp) {
    const given: Record<string, string> = { ...base }
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete given[name]
      else given[name] = value
    }
    const before = connections
    const run = await runAction(given)
    expect(run.code).toBe(1)
    const errors = errorsOf(run)
    expect(errors).toHaveLength(1)
    expect(errors[0].message).toMatch(new RegExp(`^Invalid input: ${expected.source.replace(/^\^/, '')}`))
    expect(run.stdout).not.toContain('Preflight')
    expect(connections).toBe(before)
    // A value a case marks as a secret is never printed back.
    expect([run.stdout, run.stderr, run.summary].join('\n')).not.toContain('never-shown')
  }

  it('the table is at least 25 cases', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(25)
  })

  it.each(BAD_INPUTS)('%s', (_name, overrides, expected) => expectOneInputError(overrides, expected))

  it('a wrong passphrase for an encrypted key', () =>
    expectOneInputError(
      { 'private-key': encryptedClientKey(), passphrase: 'not-the-passphrase' },
      /^private-key: cannot be decrypted: the passphrase is missing or wrong/
    ))

  it('the listeners do count a connection (the check above can fail)', async () => {
    const before = connections
    await runAction({ ...base, 'connect-attempts': '1', 'connect-timeout': '1s' })
    expect(connections).toBeGreaterThan(before)
  })
})

describe('authentication and host keys against real sshd', () => {
  it('a key the hosts do not authorize: refused, the error names user and host, nothing runs', async () => {
    resetHosts()
    const stranger = join(scratch, 'stranger_key')
    rmSync(stranger, { force: true })
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger])
    const run = await runAction(inputs({ 'private-key': readFileSync(stranger, 'utf8'), 'connect-attempts': '3' }))
    expect(run.code).toBe(1)
    const [first] = fleet.hosts
    expect(errorsOf(run).map((a) => a.message)).toEqual([
      expect.stringContaining(`authentication as ${fleet.user} on ${first.entry} failed`)
    ])
    for (const host of fleet.hosts) expect(stepsOn(host)).toEqual([])
  })

  it('hashed known_hosts entries for [host]:port are trusted', async () => {
    resetHosts()
    const file = join(scratch, 'known_hosts_hashed')
    writeFileSync(file, fleet.knownHosts())
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' })
    const hashed = readFileSync(file, 'utf8')
    expect(hashed).toMatch(/^\|1\|/)
    expect(hashed).not.toContain(fleet.hosts[0].address)
    const run = await runAction(inputs({ 'known-hosts': hashed }))
    expect(errorsOf(run)).toEqual([])
    expect(run.code).toBe(0)
    for (const host of fleet.hosts) expect(stepsOn(host)).toEqual(['offline', 'start', 'online'])
  })

  it('a swapped host key is refused before authentication: sshd logs no login', async () => {
    resetHosts()
    const trusted = fleet.knownHosts()
    const accepted = /Accepted (publickey|password)/
    const second = fleet.hosts[1]
    // Positive control: sshd logs every accepted login, so its absence below means something.
    expect((await runAction(inputs({ 'dry-run': 'true' }))).code).toBe(0)
    expect(second.sshdLog()).toMatch(accepted)

    await fleet.swapHostKey(1) // the fleet keeps the new key: later tests read knownHosts() afresh
    const run = await runAction(inputs({ 'known-hosts': trusted }))
    expect(run.code).toBe(1)
    expect(errorsOf(run).map((a) => a.message)).toEqual([
      expect.stringContaining(
        `host key refused for ${second.entry}: its ssh-ed25519 key ${second.fingerprint} does not match known-hosts`
      )
    ])
    expect(second.sshdLog()).not.toMatch(accepted)
    for (const host of fleet.hosts) expect(stepsOn(host)).toEqual([])
  })
})

describe('secrets never appear in anything the run wrote', () => {
  const secretsIn = (key: string) => [
    PASSPHRASE,
    PASSWORD,
    ...key
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length >= 8 && !line.startsWith('-----'))
  ]

  /** Everything a runner keeps, minus the add-mask commands that hand secrets to the runner. */
  function written(run: ActionRun): string {
    const stdout = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n')
    return [stdout, run.stderr, run.summary, ...Object.values(run.outputs), run.reportFile ?? ''].join('\n')
  }

  /** What the run left on disk besides report-file (in RUNNER_TEMP, for the workflow to upload) and its directory. */
  const leftBesidesReport = (run: ActionRun) =>
    run.leftOnDisk.filter((path) => !run.outputs['report-file']?.startsWith(path))

  function expectNoSecret(run: ActionRun, key: string) {
    const text = written(run)
    for (const secret of secretsIn(key)) expect(text).not.toContain(secret)
    expect(leftBesidesReport(run)).toEqual([])
  }

  it('an encrypted key and its passphrase: a passing and a failing rollout', async () => {
    const key = encryptedClientKey()
    resetHosts()
    const passing = await runAction(inputs({ 'private-key': key, passphrase: PASSPHRASE }))
    expect(passing.code).toBe(0)
    expect(passing.stdout).toContain('::add-mask::') // the runner is told what to hide
    expectNoSecret(passing, key)

    resetHosts()
    const failing = await runAction(
      inputs({ 'private-key': key, passphrase: PASSPHRASE, 'start-command': 'echo "start failed"; exit 3' })
    )
    expect(failing.code).toBe(1)
    expect(failing.summary).toContain('start failed')
    expectNoSecret(failing, key)
  })

  it('a malformed key and a passphrase in an input error', async () => {
    const lines = encryptedClientKey().split('\n')
    lines[2] = `${lines[2].slice(0, 20)}XXXXXXXXXX${lines[2].slice(30)}`
    const key = lines.join('\n')
    const run = await runAction(inputs({ 'private-key': key, passphrase: PASSPHRASE }))
    expect(run.code).toBe(1)
    expect(errorsOf(run)).toHaveLength(1)
    expectNoSecret(run, key)
  })

  ;(asRoot ? it : it.skip)('a password: accepted, then a wrong one refused', async () => {
    expect(fleet.user).toBe(TEST_USER)
    resetHosts()
    const accepted = await runAction(inputs({ 'private-key': '', password: PASSWORD }))
    expect(accepted.code).toBe(0)
    expect(fleet.hosts[0].sshdLog()).toMatch(/Accepted password/)
    expectNoSecret(accepted, '')

    const wrong = `${PASSWORD}-wrong`
    const refused = await runAction(inputs({ 'private-key': '', password: wrong, 'connect-attempts': '1' }))
    expect(refused.code).toBe(1)
    expect(
      errorsOf(refused)
        .map((a) => a.message)
        .join('\n')
    ).toContain('authentication as')
    expect(written(refused)).not.toContain(wrong)
    expect(leftBesidesReport(refused)).toEqual([])
  })
})

describe('secrets on the hosts', () => {
  it('an env secret reaches the commands, and never the arguments of any process on the host', async () => {
    const secret = `tok-${Date.now()}-never-in-ps`
    // Every process on this machine, the test hosts' included, as any local user sees them.
    const samples: string[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        samples.push(await new Promise<string>((resolve) => execFile('ps', ['-eo', 'args'], (_e, out) => resolve(out))))
        await pause(10)
      }
    })()
    resetHosts()
    // A host's first command runs on a channel of its own, the others in its long-lived shell: both ways.
    const slow = 'sleep 0.5; printf %s "$API_TOKEN" > "$HOST_ROOT/token-$ROLLOUT_STEP_NAME"'
    const run = await runAction(
      inputs({
        env: `API_TOKEN=${secret}`,
        'offline-command': slow.replace('$ROLLOUT_STEP_NAME', 'offline'),
        'stop-command': slow.replace('$ROLLOUT_STEP_NAME', 'stop')
      })
    )
    sampling = false
    await sampler
    expect(run.code).toBe(0)
    for (const host of fleet.hosts) {
      for (const step of ['offline', 'stop'])
        expect(readFileSync(join(host.root, `token-${step}`), 'utf8')).toBe(secret)
    }
    // The commands were seen running (the sampling can fail), the secret never.
    expect(samples.filter((listing) => /sleep 0\.5/.test(listing)).length).toBeGreaterThan(5)
    expect(samples.filter((listing) => listing.includes(secret))).toEqual([])
  })
})

describe('values that reach a remote shell are data, never code', () => {
  const NASTY = `it's "quoted" $(touch pwned-dollar) \`touch pwned-tick\`; touch pwned-semi & two  spaces`

  it('env values, health-file and upload-to arrive verbatim and run nothing', async () => {
    resetHosts()
    const [first] = fleet.hosts
    const local = join(scratch, 'payload')
    writeFileSync(local, 'payload\n')
    const uploadTo = `${first.root}/up ${NASTY}.txt`
    const healthFile = `${first.root}/status ${NASTY}.html`
    const run = await runAction(
      inputs({
        hosts: first.entry,
        'offline-command': '',
        'online-command': '',
        'health-file': healthFile,
        env: `NASTY=${NASTY}`,
        upload: local,
        'upload-to': uploadTo,
        'start-command': 'cd "$HOST_ROOT" && printf %s "$NASTY" > env-value'
      })
    )
    expect(errorsOf(run)).toEqual([])
    expect(run.code).toBe(0)
    expect(readFileSync(join(first.root, 'env-value'), 'utf8')).toBe(NASTY)
    // online touched the health file under exactly its name, and the upload landed under its own.
    expect(readFileSync(healthFile, 'utf8')).toBe('')
    expect(readFileSync(uploadTo, 'utf8')).toBe('payload\n')
    const files = readdirSync(first.root)
    expect(files.filter((file) => file.startsWith('pwned'))).toEqual([])
    expect(readdirSync(process.cwd()).filter((file) => file.startsWith('pwned'))).toEqual([])
  })
})

describe('the job summary', () => {
  it('HTML-escapes command output', async () => {
    resetHosts()
    const run = await runAction(
      inputs({ hosts: fleet.hosts[0].entry, 'start-command': `echo '<img src=x onerror=alert(1)>'; exit 1` })
    )
    expect(run.code).toBe(1)
    expect(run.summary).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(run.summary).not.toContain('<img')
  })
})
