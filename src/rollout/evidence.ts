// What a failed host leaves behind to explain itself: the last lines its failed step printed, the
// last health response it gave, and diagnose-command's output. Each is masked and bounded as it is
// kept, so that nothing secret or unbounded reaches the log, the job summary or the report output.

/** The failed step's last lines: enough for a stack trace's end, small enough for many failed hosts. */
export const TAIL_LINES = 20
/** A line longer than this (a minified page, a base64 blob) is cut. */
export const LINE_CHARS = 500
/** The first lines of a failed health response's body: its gist, not the whole page. */
export const HEALTH_LINES = 10
/** diagnose-command's output: its last 64 KiB, where a log's newest lines are. */
export const DIAGNOSE_BYTES = 64 * 1024

/** The last answer of a health check that did not pass. */
export interface HealthSeen {
  /** `HTTP 503` (health-url) or `exit code 1` (health-command). */
  readonly answer: string
  /** The body's first lines, or the command's. */
  readonly lines: readonly string[]
}

/** How diagnose-command went on a failed host. */
export interface Diagnosis {
  /** Why it did not exit 0 (`exited with code 1`, `ended at its bound of 30000 ms`); undefined if it did. */
  readonly problem?: string
  readonly durationMs: number
  /** Its last DIAGNOSE_BYTES of output, stdout and stderr as they came. */
  readonly output: string
  /** Bytes of output before those, not kept. */
  readonly droppedBytes: number
}

/** `line`, cut to `max` characters. */
export function clipLine(line: string, max = LINE_CHARS): string {
  return line.length <= max ? line : `${line.slice(0, max)}…`
}

/** The last `limit` bytes of the lines pushed (UTF-8), and how many bytes came before them. */
export class LastBytes {
  private readonly lines: string[] = []
  private bytes = 0
  droppedBytes = 0

  constructor(private readonly limit: number) {}

  push(line: string): void {
    this.lines.push(line)
    this.bytes += Buffer.byteLength(line) + 1
    while (this.bytes > this.limit && this.lines.length > 1) this.drop(Buffer.byteLength(this.lines.shift() ?? '') + 1)
    if (this.bytes > this.limit) {
      // One line longer than the limit: its end is kept.
      const whole = Buffer.from(`${this.lines[0]}\n`)
      this.lines[0] = whole.subarray(whole.length - this.limit, whole.length - 1).toString('utf8')
      this.drop(whole.length - this.limit)
    }
  }

  text(): string {
    return this.lines.join('\n')
  }

  private drop(bytes: number): void {
    this.bytes -= bytes
    this.droppedBytes += bytes
  }
}

/**
 * One host's evidence as its run goes: each step starts with none; the first failure keeps the
 * failed step's (later steps, a rollback's, do not replace it).
 */
export class HostEvidence {
  private tail: string[] = []
  private health?: HealthSeen
  private kept?: { readonly tail: readonly string[]; readonly health?: HealthSeen }
  diagnosis?: Diagnosis

  constructor(readonly mask: (text: string) => string) {}

  stepStarted(): void {
    this.tail = []
    this.health = undefined
  }

  /** A line a step printed, masked (as the log gets it), and kept among the step's last lines. */
  line(text: string): string {
    const masked = this.mask(text)
    this.tail.push(clipLine(masked))
    if (this.tail.length > TAIL_LINES) this.tail.shift()
    return masked
  }

  /** A health check's answer that did not pass (status or exit code, and the body or output). */
  sawHealth(answer: string, body: string): void {
    const lines = body.split('\n', HEALTH_LINES + 1).slice(0, HEALTH_LINES)
    while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop()
    this.health = { answer, lines: lines.map((line) => clipLine(this.mask(line))) }
  }

  /** The host failed in the step now running: its evidence is kept. */
  failed(): void {
    this.kept ??= { tail: [...this.tail], health: this.health }
  }

  /** What the host's report carries. */
  report(): { outputTail: readonly string[]; lastHealth?: HealthSeen; diagnosis?: Diagnosis } {
    const { tail, health } = this.kept ?? { tail: this.tail, health: this.health }
    return { outputTail: [...tail], lastHealth: health, diagnosis: this.diagnosis }
  }
}
