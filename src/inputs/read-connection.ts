// The inputs that say which hosts to reach and how to trust them: hosts, jump hosts, login, host keys.
import type { InputReader } from './input-reader.js'
import { readFileSync } from 'node:fs'
import { errorMessage } from '../errors.js'
import { hasEntryFor, knownHostsName, parseFingerprint, parseKnownHosts, type KnownHosts } from './known-hosts.js'
import { InputError, parseBoolean, parseHostTarget, parseInteger, positiveDuration, splitList } from './parse.js'
import { loadPrivateKey } from './private-key.js'
import type { SshSettings, Target } from './settings.js'

export function readTargets(
  input: InputReader,
  name: 'hosts' | 'jump-host' | 'haproxy-hosts',
  defaultPort: number
): Target[] {
  const username = input.raw('username')
  const entries = splitList(input.raw(name) ?? '')
  if (name === 'hosts' && entries.length === 0) {
    input.problem('hosts', undefined, 'is required; expected one [user@]host[:port] per line or comma-separated')
  }
  const targets: Target[] = []
  const seen = new Set<string>()
  for (const entry of entries) {
    const target = input.attempt(name, entry, () => parseHostTarget(entry, defaultPort))
    if (target === undefined) continue
    const user = target.user ?? username
    if (user === undefined) {
      input.problem(
        name,
        entry,
        'names no user and the username input is empty; expected user@host or a username input'
      )
      continue
    }
    const key = `${user}@${target.host.toLowerCase()}:${target.port}`
    if (seen.has(key)) {
      input.problem(name, entry, 'is listed twice; each host must appear once')
      continue
    }
    seen.add(key)
    targets.push({ ...target, user })
  }
  return targets
}

export function readSsh(input: InputReader, port: number, hosts: readonly Target[], warnings: string[]): SshSettings {
  const jumpHosts = readTargets(input, 'jump-host', port)
  return {
    jumpHosts,
    auth: readAuth(input),
    hostKeys: readHostKeys(input, [...hosts, ...jumpHosts], warnings),
    connectTimeoutMs: input.defaulted('connect-timeout', positiveDuration),
    connectAttempts: input.defaulted('connect-attempts', (value) => parseInteger(value, 1, 10)),
    maxConnections: input.defaulted('max-connections', (value) => parseInteger(value, 1, 1000))
  }
}

/** Whether every host stays connected for the whole run: none is ever parked. */
export const fleetFits = (ssh: SshSettings, hosts: number) => hosts * (ssh.jumpHosts.length + 1) <= ssh.maxConnections

/**
 * Where the fleet needs more connections than max-connections, the largest batch must fit, and one
 * host more: the hosts in flight are never disconnected mid-command, so without room beside them
 * the lock's upkeep and the reads of other hosts (journal, capacity floor) would wait for the batch.
 */
export function checkConnectionBound(input: InputReader, ssh: SshSettings, hosts: number, largestBatch: number): void {
  const hops = ssh.jumpHosts.length + 1
  const needed = (largestBatch + 1) * hops
  if (fleetFits(ssh, hosts) || needed <= ssh.maxConnections) return
  const each = hops === 1 ? '' : ` (${hops} each: ${hops - 1} jump host(s) and the host)`
  input.problem(
    'max-connections',
    String(ssh.maxConnections),
    `is too few for batches of ${largestBatch} host(s): the batch and one host to spare need ${needed} SSH connections${each}; expected at least ${needed}, or a smaller batch-size`
  )
}

function readAuth(input: InputReader): SshSettings['auth'] {
  const passphrase = input.raw('passphrase')
  const password = input.raw('password')
  const privateKey = input.parse('private-key', (value) => loadPrivateKey(value, passphrase))
  if (input.raw('private-key') === undefined && password === undefined && !process.env.SSH_AUTH_SOCK) {
    input.problem('private-key', undefined, 'is required (or password, or an ssh-agent in SSH_AUTH_SOCK)')
  }
  if (passphrase !== undefined && input.raw('private-key') === undefined) {
    input.problem('passphrase', undefined, 'is set without private-key')
  }
  return { privateKey, passphrase, password }
}

/**
 * known-hosts and the file known-hosts-file names, as one known_hosts: a fleet's text past 128 KiB
 * cannot be an input (the runner starts the action with each input in one environment variable).
 */
function readKnownHosts(input: InputReader): KnownHosts | undefined {
  const given = input.parse('known-hosts', parseKnownHosts)
  const fromFile = input.parse('known-hosts-file', (path) => parseKnownHosts(readKnownHostsFile(path)))
  if (given === undefined || fromFile === undefined) return given ?? fromFile
  return { entries: [...given.entries, ...fromFile.entries] }
}

function readKnownHostsFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error: unknown) {
    const why = (error as NodeJS.ErrnoException).code ?? errorMessage(error)
    throw new InputError(`cannot be read (${why}); expected the path of a known_hosts file on the runner`)
  }
}

function readHostKeys(input: InputReader, targets: readonly Target[], warnings: string[]): SshSettings['hostKeys'] {
  const strict = input.defaulted('strict-host-key-checking', parseBoolean)
  const knownHosts = readKnownHosts(input)
  const fingerprints = splitList(input.raw('host-fingerprints') ?? '').flatMap(
    (value) => input.attempt('host-fingerprints', value, () => [parseFingerprint(value)]) ?? []
  )
  if (!strict) {
    warnings.push(
      'strict-host-key-checking is false: any host key is accepted, so a machine in the middle could receive your commands and secrets'
    )
  } else if ((['known-hosts', 'known-hosts-file', 'host-fingerprints'] as const).every((name) => !input.raw(name))) {
    input.problem(
      'known-hosts',
      undefined,
      'known-hosts (or known-hosts-file) or host-fingerprints is required while strict-host-key-checking is true; get them with `ssh-keyscan -p PORT HOST` (known-hosts) or `ssh-keyscan HOST | ssh-keygen -lf -` (host-fingerprints), from a network you trust'
    )
  } else if (knownHosts !== undefined && fingerprints.length === 0) {
    // Without fingerprints to fall back on, a host known_hosts does not name could never connect.
    for (const target of targets.filter(({ host, port }) => !hasEntryFor(knownHosts, host, port))) {
      input.problem(
        'known-hosts',
        undefined,
        `has no entry for ${target.entry} (looked for '${knownHostsName(target.host, target.port)}'); expected lines as \`ssh-keyscan -p ${target.port} ${target.host}\` prints them`
      )
    }
  }
  return { strict, knownHosts, fingerprints }
}
