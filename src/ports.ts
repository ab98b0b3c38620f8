// The only ways the rollout touches the world. Adapters: ssh/connector.ts (RemoteHost), runner/actions-log.ts
// (Log), runner/local-runner.ts (Runner), the system clock below; unit tests pass hand-built fakes.
import type { Target } from './inputs/settings.js'

export type Stream = 'stdout' | 'stderr'

export interface ExecOptions {
  readonly env: readonly (readonly [string, string])[]
  readonly timeoutMs: number
  readonly signal: AbortSignal
  readonly onLine: (line: string, stream: Stream) => void
  /**
   * Runs beside the host's own commands (the lock's heartbeat): on a channel of its own when they
   * hold the connection, and never reconnecting or waiting for them; it fails instead.
   */
  readonly sideline?: boolean
  /**
   * A file on the host (a shell word) where the command records its process group and the group
   * leader's start time, so that a later run can wait for a command a dead run left running.
   */
  readonly groupFile?: string
  /**
   * One of the action's own short scripts (the journal's records, the lock's): run by the host's
   * long-lived shell itself, in a subshell, not in a session of its own behind the guard on its
   * output. A host then starts one process for it instead of five: a 500-host rollout runs
   * thousands. With no process group to end, its timeout closes the shell instead.
   */
  readonly quick?: boolean
}

export interface ExecResult {
  /** null when the command did not exit by itself (timeout, cancellation, lost connection). */
  readonly code: number | null
  readonly timedOut: boolean
  /**
   * Set when the connection was lost while the command ran, so that whether it ran, and how far,
   * is unknown: why, in the SSH library's words (`read ECONNRESET`, `Keepalive timeout`).
   */
  readonly lost?: string
  /**
   * When it ended without an exit status and nothing here ended it (a lost connection): the
   * process group it ran as on the host, where it may still be running.
   */
  readonly group?: number
}

export interface HttpResponse {
  readonly status: number
  readonly body: string
}

export interface RemoteHost {
  readonly target: Target
  /** The host key it showed and what trusted it (`ssh-ed25519 SHA256:… (in known-hosts)`), where known. */
  readonly hostKey?: string
  /**
   * Holds no connection now (max-connections closed it while it was idle): its next use connects
   * again. Absent where connections are not bounded (fakes).
   */
  readonly parked?: boolean
  exec(command: string, options: ExecOptions): Promise<ExecResult>
  /**
   * Copies a local file to the file `remotePath`, or a local directory's contents into the
   * directory `remotePath`, exactly: every name, mode, symlink and empty directory.
   */
  upload(localPath: string, remotePath: string): Promise<void>
  /** Unpacks a local .tar.gz/.tgz into the directory `remoteDir`, refusing members that would land outside it. */
  unpack(localArchive: string, remoteDir: string): Promise<void>
  /** GET `url` as the host itself would: resolved and connected from the host, through SSH. */
  httpGet(url: URL, options: { readonly timeoutMs: number; readonly signal: AbortSignal }): Promise<HttpResponse>
  /**
   * Opens a tunnel to `url`'s address from the host and closes it: why sshd refuses to forward
   * (its AllowTcpForwarding, PermitOpen), or undefined if it forwards, whether or not anything
   * listens there yet.
   */
  tunnelRefused(url: URL): Promise<string | undefined>
  /**
   * Writes `request` to the unix socket at `path` on the host (HAProxy's admin socket) and resolves
   * to all it answers before it closes; `refused`, with sshd's words, where sshd did not open it
   * (AllowStreamLocalForwarding no, or a socket missing or not the login user's: sshd does not say
   * which). Absent where no such channel exists (fakes).
   */
  askSocket?(path: string, request: string, options: SocketOptions): Promise<SocketAnswer>
  close(): Promise<void>
}

export interface SocketOptions {
  readonly timeoutMs: number
  readonly signal: AbortSignal
}

export type SocketAnswer = { readonly answer: string } | { readonly refused: string }

/** In the load balancer's rotation or not, as measured; unknown where nothing can tell. */
export type Rotation = 'in' | 'out' | 'unknown'

/** One target host as the load balancer adapters see it. */
export interface LbMember {
  readonly host: RemoteHost
  /** The variables its commands and probes get: the host's ROLLOUT_* and the env input. */
  readonly env: readonly (readonly [string, string])[]
  /** Where a line printed on the host by a rotation command goes (the host's log); ignored if absent. */
  readonly output?: (line: string) => void
  /**
   * A run that never finished left it mid-cycle (its journal says so): it may be out of the load
   * balancer by that run's hand, so a preflight that finds it unknown there must not refuse it.
   */
  readonly left?: boolean
}

/**
 * The load balancer in front of the hosts. One adapter per kind (src/load-balancer/), chosen once
 * from the inputs. Every method throws, with the words the report uses, when it cannot do its part.
 */
export interface LoadBalancer {
  /** `health-file`, `commands`, `haproxy`, `aws-elbv2`: for the log and the dry-run plan. */
  readonly kind: string
  /**
   * Preflight, before anything changes: each member's place in the load balancer, one short text
   * each in `members`' order (`web/web1 UP`, `health file present`). Throws PreflightError naming
   * every member it does not know or cannot read.
   */
  describe(members: readonly LbMember[], signal: AbortSignal): Promise<string[]>
  /**
   * Whether describe and inRotation read each member on its host (a command there, no API):
   * preflight then describes each host on the connection it opens for the host's other reads.
   */
  readonly readsOnHost?: boolean
  /** Tells the load balancer to stop sending the host new requests. */
  takeOut(member: LbMember, signal: AbortSignal): Promise<void>
  /** Resolves once the load balancer sends it nothing and its requests in flight are done (bounded). */
  awaitOut(member: LbMember, signal: AbortSignal): Promise<void>
  /** Tells the load balancer to send the host requests again. */
  putBack(member: LbMember, signal: AbortSignal): Promise<void>
  /** Resolves once the load balancer serves from the host again (bounded); throws otherwise. */
  awaitIn(member: LbMember, signal: AbortSignal): Promise<void>
  /** In rotation now, as the load balancer is told or shows it: preflight, resume, capacity, a second look. */
  inRotation(member: LbMember): Promise<Rotation>
  /** Closes whatever it opened (connections to LB hosts). */
  close(): Promise<void>
}

/** Runs a command on the runner itself, by `sh` (the load balancer probes). */
export interface Runner {
  run(command: string, options: Omit<ExecOptions, 'onLine'>): Promise<ExecResult & { readonly lastLine: string }>
}

export interface Connector {
  connect(target: Target, signal: AbortSignal): Promise<RemoteHost>
  /** The SSH connections opened so far (the `connections` output); absent where none are counted (fakes). */
  connections?(): ConnectionCounts
}

/** The run's SSH connections: each hop of a jump-host chain counts as one. */
export interface ConnectionCounts {
  /** max-connections. */
  readonly limit: number
  /** The most open at once. */
  readonly peakOpen: number
  /** Opened in all. */
  readonly opened: number
  /** Handshakes that failed and were tried again (within connect-attempts). */
  readonly handshakeRetries: number
}

/** For what must run to its end whatever happens (restoring a host): a signal that never aborts. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal

export interface Clock {
  now(): number
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * What a rollout tells an observer as it goes, for a live view (the command line's terminal); the
 * action passes none. Events rather than log lines, so no view ever parses text written for people.
 */
export type ProgressEvent =
  | {
      readonly kind: 'batch'
      readonly batch: number
      readonly batches: number
      readonly hosts: readonly Target[]
      /** Hosts in the whole rollout, for the counts a live view shows past a few hosts in flight. */
      readonly total?: number
    }
  | { readonly kind: 'step'; readonly host: Target; readonly step: string }
  | { readonly kind: 'host-done'; readonly host: Target; readonly outcome: string }
  | { readonly kind: 'bake'; readonly batch: number; readonly ms: number }

export type Progress = (event: ProgressEvent) => void

export interface Log {
  info(message: string): void
  notice(message: string, title?: string): void
  warning(message: string, title?: string): void
  error(message: string, title?: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
    })
}
