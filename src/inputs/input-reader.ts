// Reading raw inputs: action.yml's defaults, and every problem remembered (with the input's name
// and value, never a secret's) so a user fixes them all in one round.
import { InputError } from './parse.js'

export type ReadInput = (name: string) => string

/** Inputs whose values must never be quoted back. */
export const SECRET_INPUTS = ['private-key', 'passphrase', 'password'] as const
/** Inputs a problem never quotes: the secret ones, and env, whose values are often secrets. */
const NEVER_SHOWN: readonly string[] = [...SECRET_INPUTS, 'env']

/**
 * action.yml's defaults. GitHub applies them to a workflow step; every other caller (tests, a
 * terminal) gets them here. docs.test.ts keeps the two equal, value for value.
 */
export const DEFAULTS: Readonly<Record<string, string>> = {
  port: '22',
  'strict-host-key-checking': 'true',
  'connect-timeout': '20s',
  'connect-attempts': '3',
  'offline-wait': '8s',
  'online-wait': '8s',
  'probe-interval': '500ms',
  'haproxy-socket': '/run/haproxy/admin.sock',
  'health-status': '200',
  'health-timeout': '50s',
  'health-interval': '1s',
  'command-timeout': '10m',
  'batch-size': '1',
  'batch-pause': '0s',
  'max-failed-hosts': '0',
  'keep-releases': '5',
  'rollback-scope': 'host',
  lock: 'true',
  'lock-wait': '0s',
  'capacity-wait': '0s',
  'analysis-interval': '10s',
  'analysis-failures': '1',
  'dry-run': 'false'
}

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

/** Reads inputs through `readInput`, remembering every problem instead of stopping at the first. */
export class InputReader {
  readonly problems: string[] = []
  constructor(private readonly readInput: ReadInput) {}

  /** The input as given, or its default; undefined when neither. */
  raw(name: string): string | undefined {
    const value = this.readInput(name).trim()
    return value !== '' ? value : DEFAULTS[name]
  }

  /** Parses an optional input; on failure records "name: 'value' why" and gives undefined. */
  parse<T>(name: string, parser: (value: string) => T): T | undefined {
    const value = this.raw(name)
    return value === undefined ? undefined : this.attempt(name, value, () => parser(value))
  }

  /**
   * Parses an input that has a default, so always has a value: a value that fails is recorded as
   * a problem (the settings are then never used) and stands in as its default.
   */
  defaulted<T>(name: string, parser: (value: string) => T): T {
    const fallback = DEFAULTS[name]
    if (fallback === undefined) throw new Error(`${name} has no default in action.yml`)
    return this.parse(name, parser) ?? parser(fallback)
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
    const secret = NEVER_SHOWN.includes(name)
    const shown = value === undefined || secret ? '' : ` '${value.length > 200 ? `${value.slice(0, 200)}…` : value}'`
    this.problems.push(`${name}${shown}: ${why}`)
  }

  /** Ends the reading: the problems, if any, as one SettingsError. */
  finish<T>(settings: T): Readonly<T> {
    if (this.problems.length > 0) throw new SettingsError(this.problems)
    return Object.freeze(settings)
  }
}
