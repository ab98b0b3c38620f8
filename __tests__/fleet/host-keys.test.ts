// Host key types against a real OpenSSH sshd that has three host keys (ed25519, RSA and ECDSA), as
// almost every server has: whichever one the user's known-hosts or host-fingerprints holds, the
// action connects, as OpenSSH does; a wrong key of any type is still refused before any login.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { HostKeyTypes } from '../../src/ssh/host-keys.js'
import { parseKnownHosts } from '../../src/inputs/known-hosts.js'
import { systemClock } from '../../src/ports.js'
import { createSshConnector } from '../../src/ssh/connector.js'
import { RecordingLog, settingsWith } from '../../test/fakes/fakes.js'
import {
  connectionInputs,
  startSshFleet,
  type KeyKind,
  type SshFleet,
  type SshHost
} from '../../test/fleet/ssh-hosts.js'

const KINDS: readonly KeyKind[] = ['ed25519', 'rsa', 'ecdsa']
const TYPE_OF: Record<KeyKind, string> = { ed25519: 'ssh-ed25519', rsa: 'ssh-rsa', ecdsa: 'ecdsa-sha2-nistp256' }

describe('HostKeyTypes (which types to ask a host for)', () => {
  const hop = { host: 'web1', port: 22, user: 'deploy', entry: 'deploy@web1' }
  const hostKeys = (knownHosts: string, fingerprints: string[] = []) => ({
    strict: true,
    knownHosts: knownHosts ? parseKnownHosts(knownHosts) : undefined,
    fingerprints
  })
  const RSA = 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7'
  const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIMCAlmgOZc39EY549caQxuNtrFKoeNLtIMA4XMPHthJ/'

  it('offers every type, those known-hosts holds for the host first (RSA: three signature algorithms)', () => {
    expect(
      new HostKeyTypes(hop, hostKeys(`web1 ssh-rsa ${RSA}\nother ssh-ed25519 ${ED}\n`), undefined).algorithms()
    ).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521'
    ])
    expect(new HostKeyTypes(hop, hostKeys(`other ssh-rsa ${RSA}\n`), undefined).algorithms()[0]).toBe('ssh-ed25519')
    expect(new HostKeyTypes(hop, hostKeys(''), 'ecdsa-sha2-nistp384').algorithms()[0]).toBe('ecdsa-sha2-nistp384')
  })

  it('asks again for the other types only for an unknown key where fingerprints are given', () => {
    const refused = { type: 'ssh-ed25519', fingerprint: 'SHA256:x', verdict: 'unknown' } as const
    const withPrints = new HostKeyTypes(hop, hostKeys('', ['SHA256:y']), undefined)
    expect(withPrints.retryAfter(refused)).toBe(true)
    expect(withPrints.algorithms()).not.toContain('ssh-ed25519')
    expect(withPrints.message()).toMatch(/host key types tried: ssh-ed25519\)$/)
    const mismatch = new HostKeyTypes(hop, hostKeys(`web1 ssh-ed25519 ${ED}\n`, ['SHA256:y']), undefined)
    expect(mismatch.retryAfter({ ...refused, verdict: 'mismatch' })).toBe(false)
  })
})

describe('a host with ed25519, RSA and ECDSA host keys (real sshd)', () => {
  let fleet: SshFleet
  let host: SshHost
  let scratch: string

  beforeAll(async () => {
    fleet = await startSshFleet(1, { hostKeyKinds: KINDS })
    host = fleet.hosts[0]
    scratch = mkdtempSync(join(tmpdir(), 'rollout-hostkeys-'))
  })

  afterAll(async () => {
    await fleet?.close()
    rmSync(scratch, { recursive: true, force: true })
  })

  /** Connects as preflight does, with these host key inputs; resolves to the refusal, if any. */
  async function preflight(keyInputs: Record<string, string>): Promise<{ error?: string; logins: string }> {
    const before = host.sshdLog().length
    const settings = settingsWith({
      ...connectionInputs(fleet),
      'strict-host-key-checking': 'true',
      'known-hosts': '',
      ...keyInputs
    })
    const connector = createSshConnector(settings.ssh, systemClock, new RecordingLog())
    let error: string | undefined
    try {
      const remote = await connector.connect(settings.hosts[0], new AbortController().signal)
      const result = await remote.exec('echo ok', {
        env: [],
        timeoutMs: 10_000,
        signal: new AbortController().signal,
        onLine: () => undefined
      })
      expect(result.code).toBe(0)
      await remote.close()
    } catch (caught: unknown) {
      error = (caught as Error).message
    }
    return { error, logins: host.sshdLog().slice(before) }
  }

  const knownHostsLine = (line: string) => `[${host.address}]:${host.port} ${line}\n`

  /** A key of `kind` that is not the host's. */
  function strangerKey(kind: KeyKind): { line: string; fingerprint: string } {
    const path = join(scratch, `stranger_${kind}`)
    rmSync(path, { force: true })
    rmSync(`${path}.pub`, { force: true })
    execFileSync('ssh-keygen', ['-q', '-t', kind, '-N', '', '-f', path])
    return {
      line: readFileSync(`${path}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' '),
      fingerprint: execFileSync('ssh-keygen', ['-lf', `${path}.pub`])
        .toString()
        .split(/\s+/)[1]
    }
  }

  it('the host really offers all three', () => {
    expect(host.hostKeys().map((key) => key.line.split(' ')[0])).toEqual(KINDS.map((kind) => TYPE_OF[kind]))
  })

  it.each(KINDS)('known-hosts holding only its %s key connects', async (kind) => {
    const key = host.hostKeys().find((k) => k.kind === kind)
    const { error, logins } = await preflight({ 'known-hosts': knownHostsLine(key?.line ?? '') })
    expect(error).toBeUndefined()
    expect(logins).toMatch(/Accepted publickey/)
  })

  it('host-fingerprints holding only its RSA key connects (retried past the ed25519 key shown first)', async () => {
    const rsa = host.hostKeys().find((k) => k.kind === 'rsa')
    const { error } = await preflight({ 'host-fingerprints': rsa?.fingerprint ?? '' })
    expect(error).toBeUndefined()
  })

  it.each(KINDS)('a wrong %s key in known-hosts is refused before authentication', async (kind) => {
    const stranger = strangerKey(kind)
    const { error, logins } = await preflight({ 'known-hosts': knownHostsLine(stranger.line) })
    expect(error).toContain(`host key refused for ${host.entry}: its ${TYPE_OF[kind]} key`)
    expect(error).toContain('does not match known-hosts (the host key changed, or something is in the middle)')
    expect(error).toContain(`(host key types tried: ${TYPE_OF[kind]})`)
    expect(logins).not.toMatch(/Accepted/)
  })

  it('a wrong fingerprint is refused after every type the host offers was tried, before authentication', async () => {
    const { error, logins } = await preflight({ 'host-fingerprints': strangerKey('rsa').fingerprint })
    expect(error).toMatch(/is in neither known-hosts nor host-fingerprints/)
    const tried = /host key types tried: ([^)]*)\)/.exec(error ?? '')?.[1].split(', ')
    expect(tried?.sort()).toEqual(KINDS.map((kind) => TYPE_OF[kind]).sort())
    expect(logins).not.toMatch(/Accepted/)
  })
})
