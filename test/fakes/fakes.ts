// Hand-built fakes for the ports: virtual time, scripted hosts, a recording log. No real sleeping.
import type {
  Clock,
  Connector,
  ExecOptions,
  ExecResult,
  HttpResponse,
  LoadBalancer,
  Log,
  RemoteHost,
  Runner
} from '../../src/ports.js'
import { createLoadBalancer } from '../../src/load-balancer/create.js'
import { getSettings } from '../../src/inputs/get-settings.js'
import type { Settings, Target } from '../../src/inputs/settings.js'

export class FakeClock implements Clock {
  time = 1_000_000
  now(): number {
    return this.time
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal?.aborted) this.time += ms
  }
}

export interface ScriptedReply {
  code?: number | null
  lines?: string[]
  durationMs?: number
  timedOut?: boolean
  /** The connection was lost while it ran, for this reason. */
  lost?: string
  /** With `lost`: its process group on the host. */
  group?: number
  /** It never ran: the host could not be reached (a failed reconnection). */
  unreachable?: string
}

export class FakeHost implements RemoteHost {
  readonly commands: string[] = []
  readonly uploads: [string, string][] = []
  lastEnv: readonly (readonly [string, string])[] = []
  closed = false
  constructor(
    readonly target: Target,
    private readonly clock: FakeClock,
    /** Reply for a command; `calls` counts earlier runs of the same command on this host. */
    public reply: (command: string, calls: number) => ScriptedReply = () => ({}),
    public health: (calls: number) => HttpResponse = () => ({ status: 200, body: 'ok' }),
    /** Called as a command starts: lets a test cancel the run mid-command. */
    public onExec: (command: string) => void = () => undefined
  ) {}
  private healthCalls = 0

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const calls = this.commands.filter((c) => c === command).length
    this.commands.push(command)
    this.lastEnv = options.env
    this.onExec(command)
    const reply = this.reply(command, calls)
    if (reply.unreachable !== undefined) throw new Error(reply.unreachable)
    reply.lines?.forEach((line) => options.onLine(line, 'stdout'))
    this.clock.time += reply.durationMs ?? 10
    if (reply.timedOut) return { code: null, timedOut: true }
    if (reply.lost !== undefined) return { code: null, timedOut: false, lost: reply.lost, group: reply.group }
    if (options.signal.aborted) return { code: null, timedOut: false }
    return { code: reply.code === undefined ? 0 : reply.code, timedOut: false }
  }
  async upload(localPath: string, remotePath: string): Promise<void> {
    this.uploads.push([localPath, remotePath])
  }
  /** What the host's sshd says when asked for a tunnel (undefined: it forwards). */
  tunnelRefusal?: string
  async tunnelRefused(): Promise<string | undefined> {
    return this.tunnelRefusal
  }
  async unpack(localArchive: string, remoteDir: string): Promise<void> {
    this.uploads.push([localArchive, remoteDir])
  }
  async httpGet(_url: URL): Promise<HttpResponse> {
    this.clock.time += 5
    return this.health(this.healthCalls++)
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

/** The runner's shell for probes: `reply(command, calls, env)` gives each run's exit code. */
export class FakeRunner implements Runner {
  readonly runs: { command: string; env: readonly (readonly [string, string])[]; at: number }[] = []
  constructor(
    private readonly clock: FakeClock,
    public reply: (command: string, calls: number, env: ReadonlyMap<string, string>) => number = () => 0
  ) {}
  async run(command: string, options: Omit<ExecOptions, 'onLine'>) {
    const calls = this.runs.filter((run) => run.command === command).length
    this.runs.push({ command, env: options.env, at: this.clock.time })
    this.clock.time += 20
    const code = this.reply(command, calls, new Map(options.env))
    return { code, timedOut: false, lastLine: code === 0 ? '' : `probe said ${code}` }
  }
}

export class RecordingLog implements Log {
  readonly lines: string[] = []
  readonly warnings: string[] = []
  readonly errors: { message: string; title?: string }[] = []
  readonly notices: string[] = []
  info(message: string): void {
    this.lines.push(message)
  }
  notice(message: string): void {
    this.notices.push(message)
  }
  warning(message: string): void {
    this.warnings.push(message)
  }
  error(message: string, title?: string): void {
    this.errors.push({ message, title })
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`>> ${name}`)
    return fn()
  }
}

/** A readable ed25519 key made once for the tests (never used anywhere else). */
export const TEST_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAjzLsRApqrdmKpPAZDeV9aZiGKSFz48Z4GqYL8UQDt1wAAAJh74yxee+Ms
XgAAAAtzc2gtZWQyNTUxOQAAACAjzLsRApqrdmKpPAZDeV9aZiGKSFz48Z4GqYL8UQDt1w
AAAEAXhD0E26x0cowAbUExDk8T30T/s+BZfyIdNfwECJPkoSPMuxECmqt2Yqk8BkN5X1pm
IYpIXPjxngapgvxRAO3XAAAAEHRlc3RAcm9sbGluZy1rZXkBAgMEBQ==
-----END OPENSSH PRIVATE KEY-----`

export const BASE_INPUTS: Record<string, string> = {
  hosts: 'deploy@h1\ndeploy@h2\ndeploy@h3\ndeploy@h4',
  'private-key': TEST_KEY,
  'strict-host-key-checking': 'false',
  'health-file': '/srv/status/nginx-status.html',
  'stop-command': 'appctl stop',
  'start-command': 'appctl start',
  'health-url': 'http://127.0.0.1:8080/health',
  'offline-wait': '8s',
  'online-wait': '8s'
}

export function readerOf(inputs: Record<string, string>): (name: string) => string {
  return (name) => inputs[name] ?? ''
}

export function settingsWith(overrides: Record<string, string> = {}): Settings {
  return getSettings(readerOf({ ...BASE_INPUTS, ...overrides }))
}

export function fakeFleet(settings: Settings, clock: FakeClock): FakeHost[] {
  return settings.hosts.map((target) => new FakeHost(target, clock))
}

export function fakeConnector(hosts: FakeHost[], unreachable: string[] = []): Connector & { connected: string[] } {
  const connected: string[] = []
  return {
    connected,
    async connect(target) {
      if (unreachable.includes(target.entry)) throw new Error('connect ECONNREFUSED')
      connected.push(target.entry)
      const host = hosts.find((h) => h.target.entry === target.entry)
      if (!host) throw new Error(`no fake for ${target.entry}`)
      return host
    }
  }
}

/** The load balancer adapter the settings choose, over the fakes (host-side kinds need no connector). */
export function lbFor(settings: Settings, runner: Runner, clock: Clock): LoadBalancer {
  const connector: Connector = {
    connect: () => Promise.reject(new Error('the unit tests reach no LB host'))
  }
  return createLoadBalancer({ settings, runner, clock, log: new RecordingLog(), connector })
}

/** Rollout deps with the load balancer their settings choose. */
export function withLb<T extends { settings: Settings; runner: Runner; clock: Clock }>(
  deps: T
): T & { lb: LoadBalancer } {
  return { ...deps, lb: lbFor(deps.settings, deps.runner, deps.clock) }
}

/** A rollout's deps over fake hosts: a fake runner, a fresh log, a signal never aborted, the chosen load balancer. */
export function fakeRolloutDeps<T extends object>(
  settings: Settings,
  hosts: RemoteHost[],
  clock: FakeClock,
  extra?: T
) {
  return withLb({
    settings,
    hosts,
    runner: new FakeRunner(clock),
    clock,
    log: new RecordingLog(),
    signal: new AbortController().signal,
    ...extra
  })
}
