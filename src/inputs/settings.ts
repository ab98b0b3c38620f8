// Reads every input once, validates it and returns one immutable Settings. All problems are
// collected so a user fixes them in one round; nothing here connects anywhere.
import { existsSync } from 'node:fs'
import { hasEntryFor, parseFingerprint, parseKnownHosts, type KnownHosts } from './known-hosts.js'
import {
  expandVariables,
  InputError,
  parseBatchSize,
  parseBoolean,
  parseDuration,
  parseEnv,
  parseHostTarget,
  parseHttpUrl,
  parseInteger,
  parseRegex,
  parseStatusRanges,
  ROLLOUT_VARIABLES,
  splitList,
  type BatchStep,
  type HostTarget,
  type StatusRange
} from './parse.js'
import { loadPrivateKey } from './private-key.js'
import { shellQuote } from '../ssh/remote-scripts.js'

export type { HostTarget } from './parse.js'

export interface Target extends HostTarget {
  readonly user: string
}

export interface Settings {
  readonly hosts: readonly Target[]
  readonly jumpHosts: readonly Target[]
  readonly auth: { readonly privateKey?: string; readonly passphrase?: string; readonly password?: string }
  readonly hostKeys: {
    readonly strict: boolean
    readonly knownHosts?: KnownHosts
    readonly fingerprints: readonly string[]
  }
  readonly connectTimeoutMs: number
  readonly connectAttempts: number
  readonly env: readonly (readonly [string, string])[]
  readonly offlineCommand: string
  readonly onlineCommand: string
  /** Without a probe, the fixed wait; with one, the most the probe may take to confirm. */
  readonly offlineWaitMs: number
  readonly onlineWaitMs: number
  /** Commands run on the runner that exit 0 once the load balancer shows the host out / in. */
  readonly offlineProbe?: string
  readonly onlineProbe?: string
  readonly probeIntervalMs: number
  /** After offline: wait (at most timeoutMs) for the host's established connections on port to end. */
  readonly drain?: { readonly port: number; readonly timeoutMs: number }
  readonly upload?: { readonly from: string; readonly to: string }
  readonly stopCommand?: string
  readonly deployCommand?: string
  readonly startCommand?: string
  readonly health: {
    /** May hold `${ROLLOUT_HOST}` and other variables, expanded per host. */
    readonly url?: string
    readonly command?: string
    readonly statuses: readonly StatusRange[]
    readonly body?: RegExp
    readonly timeoutMs: number
    readonly intervalMs: number
  }
  readonly commandTimeoutMs: number
  readonly batchSize: readonly BatchStep[]
  readonly batchPauseMs: number
  readonly maxFailedHosts: number
  readonly rollbackCommand?: string
  readonly dryRun: boolean
  /** Risky but valid choices, reported as warning annotations. */
  readonly warnings: readonly string[]
}

export type ReadInput = (name: string) => string

/** Inputs whose values must never be quoted back. */
export const SECRET_INPUTS = ['private-key', 'passphrase', 'password'] as const

export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `Invalid input: ${problems[0]}`
        : `Invalid inputs (${problems.length}):\n${problems.map((problem) => `- ${problem}`).join('\n')}`
    )
    this.name = 'SettingsError'
  }
}

/** action.yml's defaults (GitHub applies them; tests and other callers get them here): docs.test.ts keeps the two equal. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  port: '22',
  'strict-host-key-checking': 'true',
  'connect-timeout': '20s',
  'connect-attempts': '3',
  'offline-wait': '8s',
  'online-wait': '8s',
  'probe-interval': '500ms',
  'health-status': '200',
  'health-timeout': '50s',
  'health-interval': '1s',
  'command-timeout': '10m',
  'batch-size': '1',
  'batch-pause': '0s',
  'max-failed-hosts': '0',
  'dry-run': 'false'
}

/** Reads inputs through `readInput`, remembering every problem instead of stopping at the first. */
class InputReader {
  readonly problems: string[] = []
  constructor(private readonly readInput: ReadInput) {}

  raw(name: string): string | undefined {
    const value = this.readInput(name).trim()
    return value !== '' ? value : DEFAULTS[name]
  }

  /** Parses an input; on failure records "name: 'value' why" (or without the value for secrets). */
  parse<T>(name: string, parser: (value: string) => T): T | undefined {
    const value = this.raw(name)
    return value === undefined ? undefined : this.attempt(name, value, () => parser(value))
  }

  attempt<T>(name: string, value: string, fn: () => T): T | undefined {
    try {
      return fn()
    } catch (error: unknown) {
      if (!(error instanceof InputError)) throw error
      this.problem(name, value, error.message)
      return undefined
    }
  }

  problem(name: string, value: string | undefined, why: string): void {
    const secret = (SECRET_INPUTS as readonly string[]).includes(name)
    const shown = value === undefined || secret ? '' : ` '${value.length > 200 ? `${value.slice(0, 200)}…` : value}'`
    this.problems.push(`${name}${shown}: ${why}`)
  }
}

export function getSettings(readInput: ReadInput): Settings {
  const input = new InputReader(readInput)
  const warnings: string[] = []
  const port = input.parse('port', (value) => parseInteger(value, 1, 65535)) ?? 22
  const username = input.raw('username')
  const hosts = readTargets(input, 'hosts', port, username)
  const jumpHosts = readTargets(input, 'jump-host', port, username)
  if (splitList(input.raw('hosts') ?? '').length === 0) {
    input.problem('hosts', undefined, 'is required; expected one [user@]host[:port] per line or comma-separated')
  }

  const passphrase = input.raw('passphrase')
  const password = input.raw('password')
  const privateKey = input.parse('private-key', (value) => loadPrivateKey(value, passphrase))
  if (input.raw('private-key') === undefined && password === undefined && !process.env.SSH_AUTH_SOCK) {
    input.problem('private-key', undefined, 'is required (or password, or an ssh-agent in SSH_AUTH_SOCK)')
  }
  if (passphrase !== undefined && input.raw('private-key') === undefined) {
    input.problem('passphrase', undefined, 'is set without private-key')
  }

  const hostKeys = readHostKeys(input, [...hosts, ...jumpHosts], warnings)
  const dryRun = input.parse('dry-run', parseBoolean) ?? false
  const lb = readLoadBalancer(input, dryRun)
  const env = input.parse('env', parseEnv) ?? []
  const health = readHealth(input, env)
  const commands = {
    stopCommand: input.raw('stop-command'),
    deployCommand: input.raw('deploy-command'),
    startCommand: input.raw('start-command')
  }
  if (Object.values(commands).every((command) => command === undefined)) {
    input.problem(
      'stop-command',
      undefined,
      'at least one of stop-command, deploy-command or start-command is required'
    )
  }
  const upload = readUpload(input)
  const onlineWaitMs = lb.onlineWaitMs ?? 0
  if (health.intervalMs !== undefined && !lb.offlineProbe && (lb.offlineWaitMs ?? 0) < health.intervalMs) {
    warnings.push(
      `offline-wait (${lb.offlineWaitMs} ms) is shorter than health-interval (${health.intervalMs} ms): the load balancer may still send requests to a stopping host`
    )
  }
  if (health.intervalMs !== undefined && !lb.onlineProbe && onlineWaitMs < health.intervalMs) {
    warnings.push(
      `online-wait (${onlineWaitMs} ms) is shorter than health-interval (${health.intervalMs} ms): the next host may leave before this one is back in rotation`
    )
  }

  const settings = {
    hosts,
    jumpHosts,
    auth: { privateKey, passphrase, password },
    hostKeys,
    connectTimeoutMs: input.parse('connect-timeout', positiveDuration) ?? 0,
    connectAttempts: input.parse('connect-attempts', (value) => parseInteger(value, 1, 10)) ?? 1,
    env,
    offlineCommand: lb.offlineCommand ?? '',
    onlineCommand: lb.onlineCommand ?? '',
    offlineWaitMs: lb.offlineWaitMs ?? 0,
    onlineWaitMs,
    offlineProbe: lb.offlineProbe,
    onlineProbe: lb.onlineProbe,
    probeIntervalMs: lb.probeIntervalMs ?? 0,
    drain: lb.drain,
    upload,
    ...commands,
    health: {
      ...health,
      statuses: health.statuses ?? [],
      timeoutMs: health.timeoutMs ?? 0,
      intervalMs: health.intervalMs ?? 0
    },
    commandTimeoutMs: input.parse('command-timeout', positiveDuration) ?? 0,
    batchSize: input.parse('batch-size', parseBatchSize) ?? [],
    batchPauseMs: input.parse('batch-pause', parseDuration) ?? 0,
    maxFailedHosts: input.parse('max-failed-hosts', (value) => parseInteger(value, 0, 100_000)) ?? 0,
    rollbackCommand: input.raw('rollback-command'),
    dryRun,
    warnings
  }
  if (input.problems.length > 0) throw new SettingsError(input.problems)
  return Object.freeze(settings)
}

function positiveDuration(value: string): number {
  const ms = parseDuration(value)
  if (ms === 0) throw new InputError('must be more than 0')
  return ms
}

function readTargets(input: InputReader, name: string, defaultPort: number, username: string | undefined): Target[] {
  const targets: Target[] = []
  const seen = new Set<string>()
  for (const entry of splitList(input.raw(name) ?? '')) {
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

function readHostKeys(input: InputReader, targets: readonly Target[], warnings: string[]): Settings['hostKeys'] {
  const strict = input.parse('strict-host-key-checking', parseBoolean) ?? true
  const knownHosts = input.parse('known-hosts', parseKnownHosts)
  const fingerprints = splitList(input.raw('host-fingerprints') ?? '').flatMap(
    (value) => input.attempt('host-fingerprints', value, () => [parseFingerprint(value)]) ?? []
  )
  if (!strict) {
    warnings.push(
      'strict-host-key-checking is false: any host key is accepted, so a machine in the middle could receive your commands and secrets'
    )
  } else if (
    knownHosts === undefined &&
    fingerprints.length === 0 &&
    input.raw('known-hosts') === undefined &&
    input.raw('host-fingerprints') === undefined
  ) {
    input.problem(
      'known-hosts',
      undefined,
      'known-hosts or host-fingerprints is required while strict-host-key-checking is true; get them with `ssh-keyscan -p PORT HOST` (known-hosts) or `ssh-keyscan HOST | ssh-keygen -lf -` (host-fingerprints), from a network you trust'
    )
  } else if (knownHosts !== undefined && fingerprints.length === 0) {
    // Without fingerprints to fall back on, a host known_hosts does not name could never connect.
    for (const target of targets) {
      if (!hasEntryFor(knownHosts, target.host, target.port)) {
        input.problem(
          'known-hosts',
          undefined,
          `has no entry for ${target.entry} (looked for '${target.port === 22 ? target.host : `[${target.host}]:${target.port}`}'); expected lines as \`ssh-keyscan -p ${target.port} ${target.host}\` prints them`
        )
      }
    }
  }
  return { strict, knownHosts, fingerprints }
}

function readLoadBalancer(input: InputReader, dryRun: boolean) {
  const healthFile = input.parse('health-file', (value) => {
    if (!value.startsWith('/') || value.includes('\n'))
      throw new InputError('expected an absolute path on the host, e.g. /usr/share/nginx/status/nginx-status.html')
    return value
  })
  const offline = input.raw('offline-command')
  const online = input.raw('online-command')
  if (healthFile !== undefined && offline !== undefined && online !== undefined) {
    input.problem(
      'health-file',
      healthFile,
      'is unused when both offline-command and online-command are set; set either health-file or the two commands'
    )
  }
  const missing = (name: string) =>
    input.problem(
      name,
      undefined,
      `health-file or ${name} is required: it is how a host leaves and rejoins the load balancer`
    )
  if (offline === undefined && input.raw('health-file') === undefined && !dryRun) missing('offline-command')
  if (online === undefined && input.raw('health-file') === undefined && !dryRun) missing('online-command')
  const quoted = healthFile === undefined ? undefined : shellQuote(healthFile)
  const offlineWaitMs = input.parse('offline-wait', parseDuration)
  const onlineWaitMs = input.parse('online-wait', parseDuration)
  const offlineProbe = input.raw('offline-probe')
  const onlineProbe = input.raw('online-probe')
  for (const [probe, wait, waitMs] of [
    [offlineProbe, 'offline-wait', offlineWaitMs],
    [onlineProbe, 'online-wait', onlineWaitMs]
  ] as const) {
    if (probe !== undefined && waitMs === 0) {
      input.problem(
        wait,
        input.raw(wait),
        `must be more than 0 when ${wait.replace('wait', 'probe')} is set: it bounds the probe`
      )
    }
  }
  return {
    offlineCommand: offline ?? (quoted && `rm -f ${quoted}`),
    onlineCommand: online ?? (quoted && `touch ${quoted}`),
    offlineWaitMs,
    onlineWaitMs,
    offlineProbe,
    onlineProbe,
    probeIntervalMs: input.parse('probe-interval', positiveDuration),
    drain: readDrain(input)
  }
}

function readDrain(input: InputReader): Settings['drain'] {
  const timeoutMs = input.parse('drain-timeout', positiveDuration)
  const port = input.parse('drain-port', (value) => parseInteger(value, 1, 65535))
  if ((input.raw('drain-timeout') === undefined) !== (input.raw('drain-port') === undefined)) {
    input.problem(
      'drain-port',
      input.raw('drain-port'),
      'drain-timeout and drain-port go together: the port whose connections to wait for, and for how long'
    )
  }
  return timeoutMs !== undefined && port !== undefined ? { port, timeoutMs } : undefined
}

function readHealth(input: InputReader, env: readonly (readonly [string, string])[]) {
  // Checked with every variable set to a sample value; each host expands the real ones.
  const samples = new Map([
    ...ROLLOUT_VARIABLES.map((name) => [name, name === 'ROLLOUT_HOST' ? '127.0.0.1' : '1'] as const),
    ...env.map(([name]) => [name, '1'] as const)
  ])
  const url = input.parse('health-url', (value) => {
    parseHttpUrl(expandVariables(value, samples))
    return value
  })
  const command = input.raw('health-command')
  if (input.raw('health-url') !== undefined && command !== undefined) {
    input.problem('health-command', command, 'cannot be combined with health-url; set one of them')
  } else if (input.raw('health-url') === undefined && command === undefined) {
    input.problem(
      'health-url',
      undefined,
      'health-url or health-command is required: without it a broken release would go back into rotation'
    )
  }
  return {
    url,
    command,
    statuses: input.parse('health-status', parseStatusRanges),
    body: input.parse('health-body', parseRegex),
    timeoutMs: input.parse('health-timeout', positiveDuration),
    intervalMs: input.parse('health-interval', positiveDuration)
  }
}

function readUpload(input: InputReader): Settings['upload'] {
  const from = input.raw('upload')
  const to = input.raw('upload-to')
  if ((from === undefined) !== (to === undefined)) {
    input.problem(
      from === undefined ? 'upload' : 'upload-to',
      undefined,
      'upload and upload-to go together; set both or neither'
    )
    return undefined
  }
  if (from === undefined || to === undefined) return undefined
  if (!existsSync(from))
    input.problem('upload', from, 'does not exist on the runner; expected a local file or directory')
  if (!to.startsWith('/')) input.problem('upload-to', to, 'expected an absolute path on the host')
  return { from, to }
}
