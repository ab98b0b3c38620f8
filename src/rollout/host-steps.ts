// A host's way through a release, as data. One pure function turns Settings into the ordered steps
// of a host (offline, wait, drain, stop, deploy, migrate on one host, start, health, online, wait), and
// another into the steps that undo a failure. The host's run (host-run.ts) walks them; the dry-run
// plan (plan.ts) and the summary's columns read the same lists. A new step is one entry here
// and, if it does something new, its runner in step-runners.ts.
import type { Settings } from '../inputs/settings.js'
import { drainBound } from '../load-balancer/drain-bound.js'
import { hostSideCommand } from '../load-balancer/host-side.js'
import type { HostRelease } from './release-history.js'

export type StepName =
  | 'upload'
  | 'verify'
  | 'offline'
  | 'offline-wait'
  | 'drain'
  | 'stop'
  | 'deploy'
  | 'migrate'
  | 'start'
  | 'health'
  | 'online'
  | 'online-wait'
  | 'switch'
  | 'rollback'
  | 'rollback-stop'
  | 'rollback-switch'
  | 'rollback-start'
  | 'rollback-health'
  | 'restore-online'

/** What a step does; each kind has its runner in step-runners.ts. */
export type StepAction =
  | { readonly kind: 'upload'; readonly from: string; readonly to: string }
  | { readonly kind: 'command'; readonly command: string }
  /** Through the load balancer port: its change, or the wait until the LB shows it. */
  | { readonly kind: 'rotation'; readonly change: RotationStep }
  | { readonly kind: 'drain'; readonly port: number }
  /** Release mode: `current` pointed at release `to`, in one step. */
  | { readonly kind: 'switch'; readonly to: string }
  /** matchBody: health-body proves the new release; after a rollback only the status counts. */
  | { readonly kind: 'health'; readonly matchBody: boolean; readonly timeoutMs?: number }

/** The load balancer port's four moves (ports.ts LoadBalancer), as steps. */
export type RotationStep = 'take-out' | 'await-out' | 'put-back' | 'await-in'

/**
 * What a failure must undo once a step has started, and so whether it changes the host:
 * `rotation`, the host may be out of the load balancer (put it back: it still runs the old
 * release); `release`, the old release may be gone (roll back, or leave the host out).
 */
export type Undo = 'nothing' | 'rotation' | 'release'

export interface Step {
  readonly name: StepName
  readonly action: StepAction
  /** The most it may take, in ms; undefined where nothing bounds it but the connection (upload). */
  readonly boundMs?: number
  readonly undo: Undo
  /** A cancelled run may keep it from starting; steps that restore a host always run. */
  readonly cancellable: boolean
  /** Once it passed, the host is healthy on the new release and may serve whatever happens. */
  readonly provesHealthy?: boolean
}

/** Whether hosts leave and rejoin at all: only a dry run may have no way to (it checks connections alone). */
function changesRotation(settings: Settings, rotation: 'in' | 'out'): boolean {
  const { kind } = settings.loadBalancer
  return (kind !== 'health-file' && kind !== 'commands') || hostSideCommand(settings, rotation) !== undefined
}

/** Leaving or rejoining the load balancer: the change, then the wait (or probe) for the LB to show it. */
function rotationSteps(settings: Settings, rotation: 'in' | 'out', cancellable: boolean): Step[] {
  if (!changesRotation(settings, rotation)) return []
  const [name, wait, change, moves] =
    rotation === 'out'
      ? (['offline', 'offline-wait', settings.loadBalancer.offline, ['take-out', 'await-out']] as const)
      : (['online', 'online-wait', settings.loadBalancer.online, ['put-back', 'await-in']] as const)
  const run = cancellable || rotation === 'out' ? name : 'restore-online'
  return [
    {
      name: run,
      action: { kind: 'rotation', change: moves[0] },
      boundMs: settings.commands.timeoutMs,
      undo: rotation === 'out' ? 'rotation' : 'nothing',
      cancellable
    },
    {
      name: wait,
      action: { kind: 'rotation', change: moves[1] },
      // HAProxy counts the host's sessions itself: drain-timeout bounds that wait.
      boundMs:
        settings.loadBalancer.kind === 'haproxy' && rotation === 'out'
          ? drainBound(settings.loadBalancer).timeoutMs
          : change.waitMs,
      undo: 'nothing',
      cancellable
    }
  ]
}

/** Whether a host's steps run migrate-command: on the migrate host, without release-dir (else migrate.ts runs it before any switch). */
export function migratesHere(settings: Settings, entry: string | undefined): boolean {
  return !settings.release && settings.migrate !== undefined && settings.migrate.host === entry
}

/** The app's stop, (release mode) switch, and start: what changes the host's release; migrate between deploy and start. */
function releaseSteps(
  settings: Settings,
  to: string | undefined,
  names: readonly StepName[],
  cancellable: boolean,
  migrate?: string
): Step[] {
  const { commands } = settings
  const [stop, switchTo, start] = names
  const step = (name: StepName, action: StepAction): Step => ({
    name,
    action,
    boundMs: commands.timeoutMs,
    undo: 'release',
    cancellable
  })
  return [
    ...(commands.stop !== undefined ? [step(stop, { kind: 'command', command: commands.stop })] : []),
    ...(commands.deploy !== undefined ? [step('deploy', { kind: 'command', command: commands.deploy })] : []),
    ...(to !== undefined ? [step(switchTo, { kind: 'switch', to })] : []),
    ...(migrate !== undefined ? [step('migrate', { kind: 'command', command: migrate })] : []),
    ...(commands.start !== undefined ? [step(start, { kind: 'command', command: commands.start })] : [])
  ]
}

/** The ordered steps of one host, from upload to back in rotation; in release mode it switches to `release.to`. */
export function hostSteps(settings: Settings, release?: HostRelease, migrates = false): Step[] {
  const { upload, loadBalancer, health } = settings
  const steps: Step[] = []
  if (upload) steps.push({ name: 'upload', action: { kind: 'upload', ...upload }, undo: 'nothing', cancellable: true })
  steps.push(...rotationSteps(settings, 'out', true))
  // Without a port (haproxy), the load balancer's own count of sessions is the drain.
  if (loadBalancer.drain?.port !== undefined) {
    const { port, timeoutMs } = loadBalancer.drain
    steps.push({
      name: 'drain',
      action: { kind: 'drain', port },
      boundMs: timeoutMs,
      undo: 'nothing',
      cancellable: true
    })
  }
  const migrate = migrates && !settings.release ? settings.migrate?.command : undefined
  steps.push(...releaseSteps(settings, release?.to ?? settings.release?.id, ['stop', 'switch', 'start'], true, migrate))
  steps.push({
    name: 'health',
    action: { kind: 'health', matchBody: true },
    boundMs: health.timeoutMs,
    undo: 'nothing',
    cancellable: true,
    provesHealthy: true
  })
  steps.push(...rotationSteps(settings, 'in', true))
  return steps
}

/** How long a host already on the release may take to show it is healthy before it is cycled instead. */
const VERIFY_MS = 5000

/**
 * Release mode, a host already on the release (a re-run): the full health check while it serves,
 * for at most VERIFY_MS. Healthy, it is left unchanged; otherwise it goes through its steps.
 */
export function verifySteps(settings: Settings): Step[] {
  const boundMs = Math.min(settings.health.timeoutMs, VERIFY_MS)
  return [
    {
      name: 'verify',
      action: { kind: 'health', matchBody: true, timeoutMs: boundMs },
      boundMs,
      undo: 'nothing',
      cancellable: true
    }
  ]
}

/** Release mode, a host healthy on the release but not measured in rotation: online, and the wait for the LB. */
export function rejoinSteps(settings: Settings): Step[] {
  return rotationSteps(settings, 'in', true)
}

/** Back in rotation a host that was not changed, or that is healthy on the new release. */
export function restoreRotationSteps(settings: Settings): Step[] {
  return rotationSteps(settings, 'in', false).slice(0, 1)
}

/**
 * A changed host back to the old release: in release mode switched back to its previous release
 * (stop, switch, start), otherwise with rollback-command; then a health check of the status only,
 * and online. None without either (the host stays out).
 */
export function rollBackSteps(settings: Settings, release?: HostRelease): Step[] {
  const { rollback, timeoutMs } = settings.commands
  let back: Step[] = []
  if (settings.release && release?.from !== undefined) {
    back = releaseSteps(settings, release.from, ['rollback-stop', 'rollback-switch', 'rollback-start'], false)
  } else if (!settings.release && rollback !== undefined) {
    back = [
      {
        name: 'rollback',
        action: { kind: 'command', command: rollback },
        boundMs: timeoutMs,
        undo: 'nothing',
        cancellable: false
      }
    ]
  }
  if (back.length === 0) return []
  return [
    ...back,
    {
      name: 'rollback-health',
      action: { kind: 'health', matchBody: false },
      boundMs: settings.health.timeoutMs,
      undo: 'nothing',
      cancellable: false
    },
    ...rotationSteps(settings, 'in', false)
  ]
}

/**
 * rollback-scope fleet: a host that succeeded goes back to its previous release through the same
 * load balancer steps as a deploy (never cancelled: a half-done rollback is worse).
 */
export function fleetRollbackSteps(settings: Settings, release: HostRelease): Step[] {
  const back = rollBackSteps(settings, release)
  return back.length === 0 ? [] : [...rotationSteps(settings, 'out', false), ...back]
}

/** Every step name a host's run may record, in the order the summary shows them. */
export function stepColumns(settings: Settings): StepName[] {
  // In release mode a host on the release already is verified first; any earlier one can be rolled back.
  const release = settings.release && { from: 'previous', to: settings.release.id }
  const names: StepName[] = [
    ...(release ? (['verify'] as const) : []),
    ...hostSteps(settings, release, true).map((step) => step.name),
    ...restoreRotationSteps(settings).map((step) => step.name),
    ...rollBackSteps(settings, release).map((step) => step.name)
  ]
  return [...new Set(names)]
}
