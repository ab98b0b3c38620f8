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

/** How a key shown by a hop was judged: trusted (and by what), or refused (and why). */
export type HostKeyJudgement =
  | { readonly refused?: undefined; readonly type: string; readonly fingerprint: string; readonly trustedBy: string }
  | { readonly refused: RefusedKey }

/** Judges the key `hop` showed, once: what trusts it (known-hosts, host-fingerprints, or no check), or why it is refused. */
export function judgeHostKey(hop: Target, key: Buffer, hostKeys: SshSettings['hostKeys']): HostKeyJudgement {
  const shown = { type: keyType(key), fingerprint: fingerprint(key) }
  if (!hostKeys.strict) return { ...shown, trustedBy: 'not checked: strict-host-key-checking is false' }
  const verdict = hostKeys.knownHosts ? checkHostKey(hostKeys.knownHosts, hop.host, hop.port, key) : 'unknown'
  if (verdict === 'trusted') return { ...shown, trustedBy: 'in known-hosts' }
  if (hostKeys.fingerprints.includes(shown.fingerprint)) return { ...shown, trustedBy: 'in host-fingerprints' }
  return { refused: { ...shown, verdict } }
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
