import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import {
  checkHostKey,
  fingerprint,
  hasEntryFor,
  keyType,
  parseFingerprint,
  parseKnownHosts
} from '../../src/inputs/known-hosts.js'

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIMCAlmgOZc39EY549caQxuNtrFKoeNLtIMA4XMPHthJ/'
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIBzbC8Pm9ObVPAOyKIRh+ymkJbSD3eu9r7c8hDC0hEWq'
const blob = (b64: string) => Buffer.from(b64, 'base64')

function hashed(name: string): string {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

describe('known_hosts', () => {
  it('trusts a plain entry on port 22 and a [host]:port entry', () => {
    const known = parseKnownHosts(`web1,10.0.0.1 ssh-ed25519 ${KEY_A}\n[web2]:2222 ssh-ed25519 ${KEY_B}\n`)
    expect(checkHostKey(known, 'web1', 22, blob(KEY_A))).toBe('trusted')
    expect(checkHostKey(known, '10.0.0.1', 22, blob(KEY_A))).toBe('trusted')
    expect(checkHostKey(known, 'web2', 2222, blob(KEY_B))).toBe('trusted')
    expect(checkHostKey(known, 'web2', 22, blob(KEY_B))).toBe('unknown')
  })

  it('matches hashed entries', () => {
    const known = parseKnownHosts(`${hashed('[127.0.0.1]:2201')} ssh-ed25519 ${KEY_A}`)
    expect(checkHostKey(known, '127.0.0.1', 2201, blob(KEY_A))).toBe('trusted')
    expect(checkHostKey(known, '127.0.0.1', 2202, blob(KEY_A))).toBe('unknown')
    expect(hasEntryFor(known, '127.0.0.1', 2201)).toBe(true)
  })

  it('reports a changed key as a mismatch and honours @revoked and negation', () => {
    const known = parseKnownHosts(
      `*.example.com,!evil.example.com ssh-ed25519 ${KEY_A}\n@revoked * ssh-ed25519 ${KEY_B}\n# comment\n`
    )
    expect(checkHostKey(known, 'web.example.com', 22, blob(KEY_B))).toBe('revoked')
    expect(checkHostKey(known, 'web.example.com', 22, blob(KEY_A))).toBe('trusted')
    expect(checkHostKey(parseKnownHosts(`web ssh-ed25519 ${KEY_A}`), 'web', 22, blob(KEY_B))).toBe('mismatch')
    expect(checkHostKey(known, 'evil.example.com', 22, blob(KEY_A))).toBe('unknown')
  })

  it('ignores @cert-authority lines and rejects malformed ones', () => {
    expect(parseKnownHosts(`@cert-authority *.example.com ssh-ed25519 ${KEY_A}`).entries).toEqual([])
    expect(() => parseKnownHosts('web ssh-ed25519')).toThrow(/line 1 is not valid/)
  })
})

describe('fingerprints', () => {
  it('prints SHA256 like ssh-keygen -l and reads the key type', () => {
    expect(fingerprint(blob(KEY_A))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
    expect(keyType(blob(KEY_A))).toBe('ssh-ed25519')
    expect(keyType(Buffer.alloc(2))).toBe('unknown')
  })

  it('accepts fingerprints with or without padding and rejects others', () => {
    const fp = fingerprint(blob(KEY_A))
    expect(parseFingerprint(`${fp}=`)).toBe(fp)
    expect(() => parseFingerprint('SHA256:short')).toThrow(/expected an OpenSSH SHA256 fingerprint/)
  })
})
