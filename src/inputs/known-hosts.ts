// OpenSSH host key checking without ssh-keygen: known_hosts text (plain, hashed and [host]:port
// entries, @revoked markers) and SHA256 fingerprints, matched against the raw key blob sshd offers.
import { createHash, createHmac } from 'node:crypto'
import type { ServerHostKeyAlgorithm } from 'ssh2'
import { InputError } from './parse.js'

interface KnownHostEntry {
  readonly patterns: string[] | { salt: Buffer; hash: string }
  readonly keyBlob: string
  readonly revoked: boolean
}

export interface KnownHosts {
  readonly entries: readonly KnownHostEntry[]
}

export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const fields = line.split(/\s+/)
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined
    if (fields.length < 3 || !/^[A-Za-z0-9+/]+=*$/.test(fields[2])) {
      throw new InputError(
        `line ${index + 1} is not valid; expected known_hosts lines 'host keytype base64key' as ssh-keyscan prints them`
      )
    }
    if (marker === '@cert-authority') return // certificates are not supported; such a line vouches for nothing here
    const [names, , keyBlob] = fields
    entries.push({ patterns: parseHostField(names), keyBlob, revoked: marker === '@revoked' })
  })
  return { entries }
}

function parseHostField(names: string): KnownHostEntry['patterns'] {
  const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(names)
  if (hashed) return { salt: Buffer.from(hashed[1], 'base64'), hash: hashed[2] }
  return names.split(',')
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function globMatch(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${regex}$`, 'i').test(name)
}

function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (!Array.isArray(entry.patterns)) {
    const { salt, hash } = entry.patterns
    return createHmac('sha1', salt).update(name).digest('base64') === hash
  }
  let matched = false
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false
    } else if (globMatch(pattern, name)) {
      matched = true
    }
  }
  return matched
}

/** Whether any line names this host, whatever its key: lets settings refuse a known-hosts that covers no host. */
export function hasEntryFor(knownHosts: KnownHosts, host: string, port: number): boolean {
  return knownKeyTypes(knownHosts, host, port).length > 0
}

/**
 * The host key algorithms ssh2 checks, by the type of key they carry, in the order offered by
 * default. One RSA key signs three ways (RFC 8332); ssh-rsa (SHA-1) last, for old servers.
 */
const ALGORITHMS_BY_KEY_TYPE: ReadonlyMap<string, readonly ServerHostKeyAlgorithm[]> = new Map<
  string,
  ServerHostKeyAlgorithm[]
>([
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']]
])

export const HOST_KEY_TYPES: readonly string[] = [...ALGORITHMS_BY_KEY_TYPE.keys()]

/** The key types of the (not revoked) lines that name host:port, in file order. */
export function knownKeyTypes(knownHosts: KnownHosts, host: string, port: number): string[] {
  const name = knownHostsName(host, port)
  const lines = knownHosts.entries.filter((entry) => !entry.revoked && entryMatches(entry, name))
  return [...new Set(lines.map((entry) => keyType(Buffer.from(entry.keyBlob, 'base64'))))]
}

/**
 * The host key algorithms to offer for keys of `types`, those of `first` first: as OpenSSH does
 * for a host it knows, so that a host with several keys shows the one known_hosts holds.
 */
export function hostKeyAlgorithms(types: readonly string[], first: readonly string[] = []): ServerHostKeyAlgorithm[] {
  const ordered = [...first.filter((type) => types.includes(type)), ...types.filter((type) => !first.includes(type))]
  return ordered.flatMap((type) => ALGORITHMS_BY_KEY_TYPE.get(type) ?? [])
}

export type KeyVerdict = 'trusted' | 'revoked' | 'mismatch' | 'unknown'

export function checkHostKey(knownHosts: KnownHosts, host: string, port: number, keyBlob: Buffer): KeyVerdict {
  const name = knownHostsName(host, port)
  const offered = keyBlob.toString('base64')
  const matching = knownHosts.entries.filter((entry) => entryMatches(entry, name))
  if (matching.some((entry) => entry.revoked && entry.keyBlob === offered)) return 'revoked'
  if (matching.some((entry) => !entry.revoked && entry.keyBlob === offered)) return 'trusted'
  return matching.some((entry) => !entry.revoked) ? 'mismatch' : 'unknown'
}

/** `SHA256:...` exactly as `ssh-keygen -l` prints it (unpadded base64). */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown'
  const length = keyBlob.readUInt32BE(0)
  return length > 0 && length < 64 && keyBlob.length >= 4 + length
    ? keyBlob.subarray(4, 4 + length).toString('latin1')
    : 'unknown'
}

export function parseFingerprint(text: string): string {
  const value = text.trim().replace(/=+$/, '')
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(value)) {
    throw new InputError(
      "expected an OpenSSH SHA256 fingerprint like 'SHA256:' followed by 43 base64 characters (ssh-keygen -lf)"
    )
  }
  return value
}
