// One host's run: it walks the host's steps (host-steps.ts), and on a failure undoes what the
// steps it started call for: a failed host stays out of rotation unless a rollback proves healthy,
// and a cancelled host is left in a safe, reported state.
// A step whose connection was lost has an unknown outcome: the host is looked at again first.
import { errorMessage } from '../errors.js'
import type { Settings } from '../inputs/settings.js'
import type { HostOutcome, HostReport, StepRecord, Rotation } from './host-report.js'
import { NEVER_ABORTED, type Clock, type LoadBalancer, type Log, type Progress, type RemoteHost } from '../ports.js'
import {
  fleetRollbackSteps,
  hostSteps,
  migratesHere,
  rejoinSteps,
  restoreRotationSteps,
  rollBackSteps,
  verifySteps,
  type Step,
  type StepName,
  type Undo
} from './host-steps.js'
import type { HostFound, HostJournal } from './journal.js'
import { hostVariables } from '../variables.js'
import type { HostRelease } from './release-history.js'
import { ConnectionLost } from './run-on-host.js'
import { lookAgain } from './look-again.js'
import { runStep, type StepContext } from './step-runners.js'
import { HostEvidence } from './evidence.js'
import { diagnoseFailure } from './diagnose.js'
import { masker } from '../inputs/secrets.js'

export { countsAsFailed, needsAttention, skippedHost } from './host-report.js'
export type { HostOutcome, HostReport, StepRecord, Rotation } from './host-report.js'

export interface HostContext {
  readonly host: RemoteHost
  /** How hosts leave and rejoin the load balancer. */
  readonly lb: LoadBalancer
  readonly settings: Settings
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
  readonly batch: number
  /** 1-based position in `hosts`, exported as ROLLOUT_INDEX. */
  readonly index: number
  /** Clock reading when the rollout started, the zero of every StepRecord. */
  readonly origin: number
  /** Release mode: the host's release before the run, and the one it goes to. */
  readonly release?: HostRelease
  readonly progress?: Progress
  /** How preflight found the host, and its journal (where the run keeps them: the action does). */
  readonly found?: HostFound
  readonly journal?: HostJournal
}

const UNDO_ORDER: readonly Undo[] = ['nothing', 'rotation', 'release']

class StepFailed extends Error {
  constructor(
    readonly step: StepName,
    message: string,
    /** Its connection was lost while it ran. */
    readonly lost?: ConnectionLost
  ) {
    super(message)
  }
}

export async function runHost(context: HostContext): Promise<HostReport> {
  const report = await new HostRun(context).run()
  await context.journal?.clear()
  return told(context, report)
}

/** Tells the observer, if any, how the host ended. */
function told(context: HostContext, report: HostReport): HostReport {
  context.progress?.({ kind: 'host-done', host: context.host.target, outcome: report.outcome })
  return report
}

/** rollback-scope fleet: a host `report` says this run switched, back to its previous release. */
export async function rollHostBack(context: HostContext, report: HostReport): Promise<HostReport> {
  const run = new HostRun(context)
  const back = await run.walk(fleetRollbackSteps(context.settings, context.release ?? { to: '' }))
  // Failed before its release changed (leaving rotation): it still serves the new release, healthy.
  const rotation = back.ok ? 'in' : await run.settle()
  await context.journal?.clear()
  return told(context, {
    ...report,
    outcome: back.ok ? 'rolled-back' : 'failed',
    rotation,
    failedStep: back.failure?.step,
    error: back.ok
      ? 'switched back to its previous release: the rollout failed on another host (rollback-scope fleet)'
      : `the fleet rollback failed: ${back.failure?.message}${rotation === 'in' ? '; it still serves the new release' : ''}`,
    timeline: [...report.timeline, ...back.timeline]
  })
}

class HostRun {
  private readonly timeline: StepRecord[] = []
  private readonly evidence: HostEvidence
  private readonly steps: StepContext
  private readonly started: number
  /** The most a failure must undo, from the steps started so far. */
  private undo: Undo = 'nothing'
  /** Set once the health check passed: from then on the host may serve whatever happens. */
  private healthy = false

  constructor(private readonly context: HostContext) {
    const { host, batch, index, settings, release } = context
    this.evidence = new HostEvidence(masker(settings.hidden))
    this.steps = {
      ...context,
      env: hostVariables(settings, { target: host.target, batch, index, release }),
      output: (line) => context.log.info(`[${host.target.entry}] ${this.evidence.line(line)}`),
      groupFile: context.journal?.groupFile,
      sawHealth: (answer, body) => this.evidence.sawHealth(answer, body)
    }
    this.started = context.clock.now()
  }

  async run(): Promise<HostReport> {
    const { settings, release, found } = this.context
    if (release && release.from === release.to && (await this.attempt(verifySteps(settings)))) {
      // Unchanged only if measured in rotation; else (out, unknown, left mid-cycle) healthy on it: put back.
      if (!found || (found.rotation === 'in' && !found.left)) return this.report('unchanged', 'in')
      if (await this.attempt(rejoinSteps(settings))) return this.report('succeeded', 'in')
    }
    try {
      const migrates = migratesHere(settings, this.context.host.target.entry)
      for (const step of hostSteps(settings, release, migrates)) await this.perform(step)
      return this.report('succeeded', 'in')
    } catch (error: unknown) {
      return this.recover(error as StepFailed)
    }
  }

  /** Undoes what the steps started call for, and reports the host as it is left. */
  private async recover(failure: StepFailed): Promise<HostReport> {
    const { settings, signal } = this.context
    this.evidence.failed()
    // Before anything undoes the failure; after a lost connection, once the host answers again.
    if (failure.lost === undefined) await diagnoseFailure(this.steps, this.evidence, signal)
    if (failure.lost !== undefined && !signal.aborted) return this.recoverLost(failure, failure.lost)
    const stopped = signal.aborted ? 'cancelled' : 'failed'
    if (this.undo !== 'release') return this.report(stopped, await this.settle(), failure)
    if (signal.aborted) {
      if (!this.healthy) return this.report('cancelled', 'out', failure)
      // Healthy with the new release: serving is safer than leaving capacity out.
      const online = failure.step === 'online-wait' || (await this.attempt(restoreRotationSteps(settings)))
      return this.report(online ? 'succeeded' : 'cancelled', online ? 'in' : 'unknown', online ? undefined : failure)
    }
    if (this.healthy) return this.report('failed', 'unknown', failure) // the online command itself failed
    return this.rollBack(failure)
  }

  /**
   * The host as found after `step`'s connection was lost: a healthy host (on the new release, if
   * its release may have changed) is put back; one that is not stays out or is rolled back.
   */
  private async recoverLost({ step }: StepFailed, lost: ConnectionLost): Promise<HostReport> {
    const { signal } = this.context
    const found = await lookAgain(this.steps, { onNewRelease: this.undo === 'release', group: lost.group, signal })
    const failure = new StepFailed(step, `connection lost during \`${step}\` (${lost.why}); ${found.detail}`)
    if (found.reached && !found.healthy) await diagnoseFailure(this.steps, this.evidence, signal)
    if (signal.aborted) return this.recover(failure) // cancelled meanwhile: the usual way
    if (found.healthy) return this.report('failed', found.rotation === 'in' ? 'in' : await this.putBack(), failure)
    return this.undo === 'release' ? this.rollBack(failure) : this.report('failed', found.rotation, failure)
  }

  /** A host whose release may have changed: rolled back (and in rotation), or left out. */
  private async rollBack(failure: StepFailed): Promise<HostReport> {
    const steps = rollBackSteps(this.context.settings, this.context.release)
    if (steps.length === 0) return this.report('failed', 'out', failure)
    const { failure: rollback } = await this.walk(steps)
    if (!rollback) return this.report('rolled-back', 'in', failure)
    const message = `${failure.message}; ${rollback.step} failed too: ${rollback.message}`
    return this.report('failed', 'out', new StepFailed(failure.step, message))
  }

  /**
   * Where a failed walk leaves the host when its release never changed: in rotation, or put back
   * (it still runs what it ran, so it may serve again); out when its release may have changed.
   */
  async settle(): Promise<Rotation> {
    if (this.undo === 'nothing') return 'in'
    return this.undo === 'rotation' ? this.putBack() : 'out'
  }

  /** Back in rotation by its online command (no wait): `in`, or `out` if that failed. */
  private async putBack(): Promise<Rotation> {
    return (await this.attempt(restoreRotationSteps(this.context.settings))) ? 'in' : 'out'
  }

  /** Performs `steps` to the end; false if one failed. */
  private async attempt(steps: readonly Step[]): Promise<boolean> {
    return (await this.walk(steps)).ok
  }

  /** Performs `steps` to the end or the first failure; what they recorded. */
  async walk(steps: readonly Step[]): Promise<{ ok: boolean; failure?: StepFailed; timeline: readonly StepRecord[] }> {
    try {
      for (const step of steps) await this.perform(step)
      return { ok: true, timeline: this.timeline }
    } catch (error: unknown) {
      return { ok: false, failure: error as StepFailed, timeline: this.timeline }
    }
  }

  /** Runs one step and records it; throws StepFailed naming it, whatever went wrong inside. */
  private async perform(step: Step): Promise<void> {
    const { clock, signal, origin } = this.context
    const start = clock.now()
    let failure: StepFailed | undefined
    if (step.cancellable && signal.aborted) {
      failure = new StepFailed(step.name, 'cancelled before it started')
    } else {
      if (UNDO_ORDER.indexOf(step.undo) > UNDO_ORDER.indexOf(this.undo)) this.undo = step.undo
      this.context.progress?.({ kind: 'step', host: this.context.host.target, step: step.name })
      this.evidence.stepStarted()
      if (step.name !== 'upload' && step.name !== 'verify') await this.context.journal?.record(step.name)
      // Rollback and restore steps run even if the run was cancelled meanwhile: half done is worse.
      await runStep(this.steps, step.action, step.cancellable ? signal : NEVER_ABORTED).catch((error: unknown) => {
        failure = new StepFailed(step.name, errorMessage(error), error instanceof ConnectionLost ? error : undefined)
      })
    }
    this.timeline.push({ name: step.name, startMs: start - origin, durationMs: clock.now() - start, ok: !failure })
    if (failure) throw failure
    if (step.provesHealthy) this.healthy = true
  }

  private report(outcome: HostOutcome, rotation: Rotation, failure?: StepFailed): HostReport {
    return {
      target: this.context.host.target,
      batch: this.context.batch,
      outcome,
      rotation,
      failedStep: failure?.step,
      error: failure && this.evidence.mask(failure.message),
      ...this.evidence.report(),
      timeline: this.timeline,
      durationMs: this.context.clock.now() - this.started,
      release: this.context.release,
      found: this.context.found
    }
  }
}
