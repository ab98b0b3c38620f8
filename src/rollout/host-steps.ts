// A host's way through a release, as data. One pure function turns Settings into the ordered steps
// of a host (the seed's appctl.sh: offline, wait, stop, deploy, start, health, online, wait), and
// another into the steps that undo a failure. The host's run (host-run.ts) walks them; the dry-run
// plan (plan.ts) and the summary's columns read the same lists. A new phase is one entry here
// and, if it does something new, its runner in step-runners.ts.
import type { RotationChange, Settings } from '../inputs/settings.js'
import { removeFile, touchFile } from '../ssh/remote-scripts.js'

export type StepName =
  | 'upload'
  | 'offline'
  | 'offline-wait'
  | 'drain'
  | 'stop'
  | 'deploy'
  | 'start'
  | 'health'
  | 'online'
  | 'online-wait'
  | 'rollback'
  | 'rollback-health'
  | 'restore-online'

/** What a step does; each kind has its runner in step-runners.ts. */
export type StepAction =
  | { readonly kind: 'upload'; readonly from: string; readonly to: string }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'await-rotation'; readonly rotation: 'in' | 'out'; readonly change: RotationChange }
  | { readonly kind: 'drain'; readonly port: number }
  /** matchBody: health-body proves the new release; after a rollback only the status counts. */
  | { readonly kind: 'health'; readonly matchBody: boolean }

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

/** The command that changes a host's rotation: the user's, or the health file removed / touched. */
function rotationCommand(settings: Settings, rotation: 'in' | 'out'): string | undefined {
  const { healthFile, offline, online } = settings.loadBalancer
  const command = rotation === 'out' ? offline.command : online.command
  if (command !== undefined || healthFile === undefined) return command
  return rotation === 'out' ? removeFile(healthFile) : touchFile(healthFile)
}

/** Leaving or rejoining the load balancer: its command, then the wait (or probe) for the LB to see it. */
function rotationSteps(settings: Settings, rotation: 'in' | 'out', cancellable: boolean): Step[] {
  const command = rotationCommand(settings, rotation)
  // Only a dry run may have neither a command nor a health file (it checks connections alone).
  if (command === undefined) return []
  const [name, wait, change] =
    rotation === 'out'
      ? (['offline', 'offline-wait', settings.loadBalancer.offline] as const)
      : (['online', 'online-wait', settings.loadBalancer.online] as const)
  const run = cancellable ? name : 'restore-online'
  const bound = settings.commands.timeoutMs
  return [
    {
      name: run,
      action: { kind: 'command', command },
      boundMs: bound,
      undo: rotation === 'out' ? 'rotation' : 'nothing',
      cancellable
    },
    {
      name: wait,
      action: { kind: 'await-rotation', rotation, change },
      boundMs: change.waitMs,
      undo: 'nothing',
      cancellable
    }
  ]
}

/** The ordered steps of one host, from upload to back in rotation. */
export function hostSteps(settings: Settings): Step[] {
  const { upload, commands, loadBalancer, health } = settings
  const steps: Step[] = []
  if (upload) steps.push({ name: 'upload', action: { kind: 'upload', ...upload }, undo: 'nothing', cancellable: true })
  steps.push(...rotationSteps(settings, 'out', true))
  if (loadBalancer.drain) {
    const { port, timeoutMs } = loadBalancer.drain
    steps.push({
      name: 'drain',
      action: { kind: 'drain', port },
      boundMs: timeoutMs,
      undo: 'nothing',
      cancellable: true
    })
  }
  for (const name of ['stop', 'deploy', 'start'] as const) {
    const command = commands[name]
    if (command === undefined) continue
    steps.push({
      name,
      action: { kind: 'command', command },
      boundMs: commands.timeoutMs,
      undo: 'release',
      cancellable: true
    })
  }
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

/** Back in rotation a host that was not changed, or that is healthy on the new release. */
export function restoreRotationSteps(settings: Settings): Step[] {
  return rotationSteps(settings, 'in', false).slice(0, 1)
}

/** A changed host back to the old release with rollback-command; none without it (the host stays out). */
export function rollBackSteps(settings: Settings): Step[] {
  const { rollback, timeoutMs } = settings.commands
  if (rollback === undefined) return []
  return [
    {
      name: 'rollback',
      action: { kind: 'command', command: rollback },
      boundMs: timeoutMs,
      undo: 'nothing',
      cancellable: false
    },
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

/** Every step name a host's run may record, in the order the summary shows them. */
export function stepColumns(settings: Settings): StepName[] {
  const names = [...hostSteps(settings), ...restoreRotationSteps(settings), ...rollBackSteps(settings)].map(
    (step) => step.name
  )
  return [...new Set(names)]
}
