// Which host key a hop may show, and in which order its types are asked for. Checked before any
// authentication: a refused key means nothing of ours (key, password) reached the host.
import type { ServerHostKeyAlgorithm } from 'ssh2'
import {
  checkHostKey,
  fingerprint,
  HOST_KEY_TYPES,
  hostKeyAlgorithms,
  keyType,
  knownKeyTypes,
  type KeyVerdict
} from '../inputs/known-hosts.js'
import type { SshSettings, Target } from '../inputs/settings.js'

/** A host key the hop showed and the check refused. */
export interface RefusedKey {
  readonly type: string
  readonly fingerprint: string
  readonly verdict: Exclude<KeyVerdict, 'trusted'>
}

/** undefined when `key` may be trusted for `hop`; otherwise what was refused and why. */
export function refuseHostKey(hop: Target, key: Buffer, hostKeys: SshSettings['hostKeys']): RefusedKey | undefined {
  if (!hostKeys.strict) return undefined
  const verdict = hostKeys.knownHosts ? checkHostKey(hostKeys.knownHosts, hop.host, hop.port, key) : 'unknown'
  if (verdict === 'trusted' || hostKeys.fingerprints.includes(fingerprint(key))) return undefined
  return { type: keyType(key), fingerprint: fingerprint(key), verdict }
}

/** A key `refuseHostKey` let through, and why: `ssh-ed25519 SHA256:… (in known-hosts)`. */
export function describeTrustedKey(hop: Target, key: Buffer, hostKeys: SshSettings['hostKeys']): string {
  const why = !hostKeys.strict
    ? 'not checked: strict-host-key-checking is false'
    : hostKeys.knownHosts && checkHostKey(hostKeys.knownHosts, hop.host, hop.port, key) === 'trusted'
      ? 'in known-hosts'
      : 'in host-fingerprints'
  return `${keyType(key)} ${fingerprint(key)} (${why})`
}

const WHY: Record<RefusedKey['verdict'], string> = {
  mismatch: 'does not match known-hosts (the host key changed, or something is in the middle)',
  revoked: 'is marked @revoked in known-hosts',
  unknown: 'is in neither known-hosts nor host-fingerprints'
}

/** The error for a hop whose every key shown was refused; it names the key types tried. */
export function refusalMessage(hop: Target, refused: readonly RefusedKey[]): string {
  const keys = refused.map((key) => `${key.type} key ${key.fingerprint} ${WHY[key.verdict]}`)
  return `host key refused for ${hop.entry}: its ${keys.join('; its ')} (host key types tried: ${refused.map((key) => key.type).join(', ')})`
}

/**
 * The host key types to ask a hop for, attempt after attempt. The first attempt offers every type,
 * those known-hosts holds for the hop (or `accepted` before) first, as OpenSSH does. A key refused
 * only for being unknown, where host-fingerprints are given (they do not say their type), is asked
 * again with each type not yet shown; a key that contradicts known-hosts is never retried.
 */
export class HostKeyTypes {
  private readonly refused: RefusedKey[] = []
  private readonly first: readonly string[]

  constructor(
    private readonly hop: Target,
    private readonly hostKeys: SshSettings['hostKeys'],
    accepted: string | undefined
  ) {
    const known = hostKeys.knownHosts ? knownKeyTypes(hostKeys.knownHosts, hop.host, hop.port) : []
    this.first = accepted === undefined ? known : [accepted, ...known]
  }

  /** The algorithms to offer next. */
  algorithms(): ServerHostKeyAlgorithm[] {
    const shown = this.refused.map((key) => key.type)
    return hostKeyAlgorithms(
      HOST_KEY_TYPES.filter((type) => !shown.includes(type)),
      this.first
    )
  }

  /** Records a refused key; false when no other type is worth asking for. */
  retryAfter(key: RefusedKey): boolean {
    this.refused.push(key)
    return key.verdict === 'unknown' && this.hostKeys.fingerprints.length > 0 && this.algorithms().length > 0
  }

  /** Whether any key was refused yet (a later "no matching host key" then ends the search). */
  get anyRefused(): boolean {
    return this.refused.length > 0
  }

  message(): string {
    return refusalMessage(this.hop, this.refused)
  }
}
