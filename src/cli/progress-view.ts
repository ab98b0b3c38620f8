// The terminal's live view of a rollout: a block under the log with one line per host in flight (its
// step and how long it has been in it) and the batches done, redrawn in place with ANSI cursor moves.
// A big rollout adds the hosts' counts; past IN_FLIGHT_LINES hosts in flight, the block shows how
// many are at each step and the slowest few instead of a line per host, so it fits on a screen.
// Log lines are printed above the block, so the block always stays at the bottom. When the output is
// not a terminal there is no block: log lines only, and no escape sequence ever.
import type { Progress, ProgressEvent } from '../ports.js'

export interface Terminal {
  write(text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

interface InFlight {
  step: string
  hostStart: number
  stepStart: number
}

const UP_AND_ERASE = '\x1b[1A\x1b[2K'
const REDRAW_MS = 250
/** Hosts in flight shown one per line; past it, counts per step and the SLOWEST_SHOWN slowest. */
export const IN_FLIGHT_LINES = 12
const SLOWEST_SHOWN = 5
const FAILED = new Set(['failed', 'rolled-back', 'cancelled'])

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

export class ProgressView {
  private readonly inFlight = new Map<string, InFlight>()
  private readonly waiting = new Set<string>()
  private batch = 0
  private batches = 0
  private batchesDone = 0
  private total?: number
  private hostsDone = 0
  private hostsFailed = 0
  /** The bake under way, until the next batch starts. */
  private baking?: { readonly batch: number; readonly start: number; readonly ms: number }
  /** Lines of the block on the screen now, erased before anything else is written. */
  private drawn = 0
  private timer: ReturnType<typeof setInterval> | undefined
  /** Taken off the screen for good: what is printed after (the report's path, the error) comes without it. */
  private stopped = false

  constructor(
    private readonly out: Terminal,
    private readonly now: () => number = Date.now
  ) {}

  /** Whether the block is drawn: only on a terminal. */
  get live(): boolean {
    return this.out.isTTY === true
  }

  readonly observe: Progress = (event) => {
    this.apply(event)
    this.draw()
  }

  /** A log line (or several), above the block. */
  print(text: string): void {
    this.out.write(this.live && !this.stopped ? `${this.erase()}${text}\n${this.block()}` : `${text}\n`)
  }

  /** Keeps the elapsed times moving while nothing else happens. */
  start(): void {
    if (!this.live || this.timer) return
    this.timer = setInterval(() => this.draw(), REDRAW_MS)
    this.timer.unref()
  }

  /** Takes the block off the screen for good (the summary follows). */
  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.stopped = true
    if (this.live && this.drawn > 0) this.out.write(this.erase())
  }

  /** The block's lines: batches done / total, the hosts' counts in a big rollout, then the hosts in flight. */
  lines(): string[] {
    if (this.batches === 0 && this.inFlight.size === 0) return []
    const now = this.now()
    const bake = this.baking
    const counts =
      this.total !== undefined && this.total > IN_FLIGHT_LINES
        ? [
            `  hosts: ${this.hostsDone} done (${this.hostsFailed} failed), ${this.waiting.size} in batch ${this.batch}, ` +
              `${this.total - this.hostsDone - this.waiting.size} to go`
          ]
        : []
    const many = this.inFlight.size > IN_FLIGHT_LINES
    return [
      `Batch ${this.batch}/${this.batches}: ${this.batchesDone}/${this.batches} batch(es) done`,
      ...counts,
      ...(bake ? [`  baking batch ${bake.batch}: ${seconds(now - bake.start)} of ${seconds(bake.ms)}`] : []),
      ...(many ? [`  in flight: ${this.perStep()}`, '  slowest:'] : []),
      ...this.hostLines(many ? this.slowest() : [...this.inFlight], now)
    ]
  }

  private hostLines(hosts: readonly (readonly [string, InFlight])[], now: number): string[] {
    const width = Math.max(0, ...hosts.map(([entry]) => entry.length))
    const stepWidth = Math.max(0, ...hosts.map(([, host]) => host.step.length))
    return hosts.map(
      ([entry, host]) =>
        `  ${entry.padEnd(width)}  ${host.step.padEnd(stepWidth)}  ${seconds(now - host.stepStart).padStart(6)}` +
        `  (host ${seconds(now - host.hostStart)})`
    )
  }

  /** `start 30, health 12, stop 8`: hosts in flight per step, the most first. */
  private perStep(): string {
    const steps = new Map<string, number>()
    for (const { step } of this.inFlight.values()) steps.set(step, (steps.get(step) ?? 0) + 1)
    return [...steps]
      .sort((a, b) => b[1] - a[1])
      .map(([step, n]) => `${step} ${n}`)
      .join(', ')
  }

  /** The hosts longest in their current step: the ones to look at. */
  private slowest(): [string, InFlight][] {
    return [...this.inFlight].sort((a, b) => a[1].stepStart - b[1].stepStart).slice(0, SLOWEST_SHOWN)
  }

  private apply(event: ProgressEvent): void {
    const now = this.now()
    if (event.kind === 'bake') {
      this.baking = { batch: event.batch, start: now, ms: event.ms }
    } else if (event.kind === 'batch') {
      this.baking = undefined
      this.batch = event.batch
      this.batches = event.batches
      this.total = event.total
      this.waiting.clear()
      for (const host of event.hosts) this.waiting.add(host.entry)
    } else if (event.kind === 'step') {
      const host = this.inFlight.get(event.host.entry)
      this.inFlight.set(event.host.entry, { step: event.step, hostStart: host?.hostStart ?? now, stepStart: now })
    } else {
      this.inFlight.delete(event.host.entry)
      // The batch is done once its last host is; a fleet rollback's hosts belong to no batch.
      if (!this.waiting.delete(event.host.entry)) return
      this.hostsDone++
      if (FAILED.has(event.outcome)) this.hostsFailed++
      if (this.waiting.size === 0) this.batchesDone = this.batch
    }
  }

  private draw(): void {
    if (this.live && !this.stopped) this.out.write(`${this.erase()}${this.block()}`)
  }

  private block(): string {
    // A line wider than the terminal wraps onto two, and the erase would then miss one.
    const columns = this.out.columns || 80
    const lines = this.lines().map((line) => (line.length >= columns ? line.slice(0, columns - 1) : line))
    this.drawn = lines.length
    return lines.map((line) => `${line}\n`).join('')
  }

  private erase(): string {
    const text = UP_AND_ERASE.repeat(this.drawn)
    this.drawn = 0
    return text
  }
}
