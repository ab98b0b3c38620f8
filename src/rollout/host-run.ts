// One host's way through a release: the state machine of the seed's appctl.sh (offline, stop,
// deploy, start, health, online), plus what it never did: a failed host stays out of rotation
// unless a rollback proves healthy, and a cancelled host is left in a safe, reported state.
import { judgeResponse } from './health.js'
import { pollUntil, type Verdict } from './poll.js'
import { expandVariables } from '../inputs/parse.js'
import type { Clock, ExecResult, Log, RemoteHost, Runner } from '../ports.js'
import type { Settings, Target } from '../inputs/settings.js'

export const PHASES = [
  'upload',
  'offline',
  'offline-wait',
  'drain',
  'stop',
  'deploy',
  'start',
  'health',
  'online',
  'online-wait'
] as const
export type PhaseName = (typeof PHASES)[number] | 'rollback' | 'rollback-health' | 'restore-online'

export interface PhaseRecord {
  readonly name: PhaseName
  /** Milliseconds since the rollout started. */
  readonly startMs: number
  readonly durationMs: number
  readonly ok: boolean
}

export type HostOutcome = 'succeeded' | 'failed' | 'rolled-back' | 'cancelled' | 'skipped'
/** Whether the load balancer should be sending this host traffic when the run ends. */
export type Rotation = 'in' | 'out' | 'unknown'

export interface HostReport {
  readonly target: Target
  readonly batch: number
  readonly outcome: HostOutcome
  readonly rotation: Rotation
  readonly failedPhase?: PhaseName
  readonly error?: string
  /** The last lines the host printed, for the summary's details. */
  readonly outputTail: readonly string[]
  readonly phases: readonly PhaseRecord[]
  readonly durationMs: number
}

export interface HostContext {
  readonly host: RemoteHost
  /** Where the load balancer probes run. */
  readonly runner: Runner
  readonly settings: Settings
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
  readonly batch: number
  /** 1-based position in `hosts`, exported as ROLLOUT_INDEX. */
  readonly index: number
  /** Clock reading when the rollout started, the zero of every PhaseRecord. */
  readonly origin: number
}

const OUTPUT_TAIL_LINES = 20

class PhaseFailed extends Error {
  constructor(
    readonly phase: PhaseName,
    message: string
  ) {
    super(message)
  }
}

/** Hosts the rollout did not reach, or whose batch was never started. */
export function skippedHost(target: Target, batch: number): HostReport {
  return { target, batch, outcome: 'skipped', rotation: 'in', outputTail: [], phases: [], durationMs: 0 }
}

export async function runHost(context: HostContext): Promise<HostReport> {
  return new HostRun(context).run()
}

class HostRun {
  private readonly phases: PhaseRecord[] = []
  private readonly tail: string[] = []
  private readonly env: readonly (readonly [string, string])[]
  private readonly started: number
  /** Set once stop, deploy or start began: from then on the old release may be gone. */
  private changed = false
  /** Set once the health check passed: from then on the host may serve whatever happens. */
  private healthy = false

  constructor(private readonly context: HostContext) {
    const { target } = context.host
    this.env = [
      ['ROLLOUT_HOST', target.host],
      ['ROLLOUT_PORT', String(target.port)],
      ['ROLLOUT_USER', target.user],
      ['ROLLOUT_TARGET', target.entry],
      ['ROLLOUT_BATCH', String(context.batch)],
      ['ROLLOUT_INDEX', String(context.index)],
      ...context.settings.env
    ]
    this.started = context.clock.now()
  }

  async run(): Promise<HostReport> {
    const { settings, signal } = this.context
    const stage = settings.upload
    try {
      if (stage) await this.phase('upload', () => this.context.host.upload(stage.from, stage.to))
      await this.phase('offline', () => this.command(settings.offlineCommand, signal))
      await this.phase('offline-wait', () => this.awaitRotation('out', signal))
      const { drain } = settings
      if (drain) await this.phase('drain', () => this.drain(drain.port, drain.timeoutMs))
      for (const [name, command] of [
        ['stop', settings.stopCommand],
        ['deploy', settings.deployCommand],
        ['start', settings.startCommand]
      ] as const) {
        if (command === undefined) continue
        await this.phase(name, () => {
          this.changed = true
          return this.command(command, signal)
        })
      }
      await this.phase('health', () => this.checkHealth(signal))
      this.healthy = true
      await this.phase('online', () => this.command(settings.onlineCommand, signal))
      await this.phase('online-wait', () => this.awaitRotation('in', signal))
      return this.report('succeeded', 'in')
    } catch (error: unknown) {
      return this.recover(error instanceof PhaseFailed ? error : new PhaseFailed('upload', String(error)))
    }
  }

  private async recover(failure: PhaseFailed): Promise<HostReport> {
    const { settings, signal } = this.context
    const stopped = signal.aborted ? 'cancelled' : 'failed'
    if (!this.changed) {
      // Nothing was stopped: the host still runs the old release, so it may serve again.
      const restored = failure.phase === 'upload' || (await this.restoreOnline())
      return this.report(stopped, restored ? 'in' : 'out', failure)
    }
    if (signal.aborted) {
      if (!this.healthy) return this.report('cancelled', 'out', failure)
      // Healthy with the new release: serving is safer than leaving capacity out.
      const online = failure.phase === 'online-wait' || (await this.restoreOnline())
      return this.report(online ? 'succeeded' : 'cancelled', online ? 'in' : 'unknown', online ? undefined : failure)
    }
    if (this.healthy) return this.report('failed', 'unknown', failure) // the online command itself failed
    if (settings.rollbackCommand === undefined) return this.report('failed', 'out', failure)
    try {
      // Rollback runs even if the rollout was cancelled meanwhile: a half-done rollback is worse.
      const always = new AbortController().signal
      await this.phase('rollback', () => this.command(settings.rollbackCommand ?? '', always))
      // health-body proves the new release; after a rollback the old one answers, so only the status counts.
      await this.phase('rollback-health', () => this.checkHealth(always, false))
      await this.phase('restore-online', () => this.command(settings.onlineCommand, always))
      await this.phase('online-wait', () => this.awaitRotation('in', always))
      return this.report('rolled-back', 'in', failure)
    } catch (error: unknown) {
      const rollback = error instanceof PhaseFailed ? error : new PhaseFailed('rollback', String(error))
      return this.report(
        'failed',
        'out',
        new PhaseFailed(failure.phase, `${failure.message}; ${rollback.phase} failed too: ${rollback.message}`)
      )
    }
  }

  /** Puts a host that was never stopped back online; false if that failed too. */
  private async restoreOnline(): Promise<boolean> {
    try {
      await this.phase('restore-online', () =>
        this.command(this.context.settings.onlineCommand, new AbortController().signal)
      )
      return true
    } catch {
      return false
    }
  }

  private async phase(name: PhaseName, body: () => Promise<void>): Promise<void> {
    const { clock, signal } = this.context
    const start = clock.now()
    const cancellable = name !== 'restore-online' && !name.startsWith('rollback')
    let failure: PhaseFailed | undefined
    if (cancellable && signal.aborted) {
      failure = new PhaseFailed(name, 'cancelled before it started')
    } else {
      await body().catch((error: unknown) => {
        failure = new PhaseFailed(name, error instanceof Error ? error.message : String(error))
      })
    }
    this.phases.push({ name, startMs: start - this.context.origin, durationMs: clock.now() - start, ok: !failure })
    if (failure) throw failure
  }

  private async command(command: string, signal: AbortSignal): Promise<void> {
    const { host, settings } = this.context
    const result = await host.exec(command, {
      env: this.env,
      timeoutMs: settings.commandTimeoutMs,
      signal,
      onLine: (line) => this.output(line)
    })
    if (result.timedOut) throw new Error(`timed out after ${settings.commandTimeoutMs} ms`)
    throwIfFailed(result, signal)
  }

  /** A line a host printed: to the log, and to the tail the summary shows for a failed host. */
  private output(line: string): void {
    this.context.log.info(`[${this.context.host.target.entry}] ${line}`)
    this.tail.push(line)
    if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift()
  }

  private async checkHealth(signal: AbortSignal, matchBody = true): Promise<void> {
    const { host, settings, clock, log } = this.context
    const { url, command, statuses, body, timeoutMs, intervalMs } = settings.health
    const expanded = url === undefined ? undefined : new URL(expandVariables(url, new Map(this.env)))
    const attempt = async (budgetMs: number): Promise<Verdict> => {
      if (expanded)
        return judgeResponse(
          await host.httpGet(expanded, { timeoutMs: budgetMs, signal }),
          statuses,
          matchBody ? body : undefined
        )
      const result = await host.exec(command ?? 'false', {
        env: this.env,
        timeoutMs: budgetMs,
        signal,
        onLine: () => undefined
      })
      return exitVerdict(result)
    }
    const verdict = await pollUntil(attempt, {
      clock,
      timeoutMs,
      intervalMs,
      signal,
      waitingFor: 'the health check',
      failed: 'not healthy',
      onAttempt: (seen, count) => {
        if (!seen.ok && count % 5 === 1)
          log.info(`[${host.target.entry}] not healthy yet (attempt ${count}): ${seen.detail}`)
      }
    })
    log.info(`[${host.target.entry}] healthy: ${verdict.detail}`)
  }

  /**
   * After offline or online: the fixed wait, or, with a probe, until the probe confirms the load
   * balancer's view (the wait is then only the upper bound).
   */
  private async awaitRotation(rotation: 'in' | 'out', signal: AbortSignal): Promise<void> {
    const { settings, clock, runner } = this.context
    const [name, probe, waitMs] =
      rotation === 'out'
        ? ['offline-probe', settings.offlineProbe, settings.offlineWaitMs]
        : ['online-probe', settings.onlineProbe, settings.onlineWaitMs]
    if (probe === undefined) return clock.sleep(waitMs, signal)
    await pollUntil(
      async (budgetMs) => {
        const result = await runner.run(probe, { env: this.env, timeoutMs: budgetMs, signal })
        return exitVerdict(result, result.lastLine)
      },
      {
        clock,
        timeoutMs: waitMs,
        intervalMs: settings.probeIntervalMs,
        signal,
        waitingFor: name,
        failed: `${name} did not confirm the host ${rotation === 'out' ? 'out of' : 'in'} rotation`
      }
    )
  }

  /**
   * Waits until the host has no established connection left on `port` (as `ss` on the host sees
   * it), so in-flight requests finish; past the timeout the host is stopped anyway, with a warning.
   * One command polls on the host, rather than one SSH exec per poll.
   */
  private async drain(port: number, timeoutMs: number): Promise<void> {
    const { host, log, signal, settings } = this.context
    const seconds = (settings.probeIntervalMs / 1000).toFixed(3)
    let open = ''
    const script = [
      'command -v ss >/dev/null || { echo "ss not found on the host (Debian: iproute2)" >&2; exit 127; }',
      'last=',
      'while :; do',
      `  n=$(( $(ss -Htn state established '( sport = :${port} )' | wc -l) ))`,
      '  if [ "$n" != "$last" ]; then echo "$n"; last=$n; fi',
      '  [ "$n" -eq 0 ] && exit 0',
      `  sleep ${seconds}`,
      'done'
    ].join('\n')
    const result = await host.exec(script, {
      env: this.env,
      timeoutMs,
      signal,
      onLine: (line) => {
        if (!/^\d+$/.test(line)) return this.output(line)
        open = line
        log.info(`[${host.target.entry}] ${line} connection(s) open on port ${port}`)
      }
    })
    if (result.timedOut) {
      log.warning(
        `${host.target.entry}: ${open || 'some'} connection(s) still open on port ${port} after drain-timeout (${timeoutMs} ms); stopping anyway`,
        'Drain incomplete'
      )
      return
    }
    throwIfFailed(result, signal)
  }

  private report(outcome: HostOutcome, rotation: Rotation, failure?: PhaseFailed): HostReport {
    return {
      target: this.context.host.target,
      batch: this.context.batch,
      outcome,
      rotation,
      failedPhase: failure?.phase,
      error: failure?.message,
      outputTail: [...this.tail],
      phases: this.phases,
      durationMs: this.context.clock.now() - this.started
    }
  }
}

/** A command that ended on its own, but not well: why, in the words the report uses. */
function throwIfFailed(result: ExecResult, signal: AbortSignal): void {
  if (signal.aborted && result.code !== 0) throw new Error('cancelled')
  if (result.code === null) throw new Error('ended without an exit status (connection lost)')
  if (result.code !== 0) throw new Error(`exited with code ${result.code}`)
}

/** A command polled until it succeeds (health-command, a probe): what one run showed. */
function exitVerdict(result: ExecResult, lastLine = ''): Verdict {
  const seen = result.timedOut ? 'timed out' : `exit code ${result.code}`
  return { ok: result.code === 0, detail: lastLine ? `${seen}: ${lastLine}` : seen }
}
