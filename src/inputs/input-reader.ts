// Reading raw inputs: action.yml's defaults, and every problem remembered (with the input's name
// and value, never a secret's) so a user fixes them all in one round. Every method takes an
// InputName, so a misspelled input does not compile.
import { DEFAULTS, SECRET_INPUTS, type DefaultedInput, type InputName } from './catalog.js'
import { InputError } from './parse.js'

/** An input's text as given (empty when not), by its name in action.yml. */
export type ReadInput = (name: InputName) => string

/** Inputs a problem never quotes: the secret ones, and env, whose values are often secrets. */
const NEVER_SHOWN: readonly InputName[] = [...SECRET_INPUTS, 'env']
/** action.yml's defaults, looked up by any input's name. */
const DEFAULT_OF: Readonly<Partial<Record<InputName, string>>> = DEFAULTS

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
  raw(name: InputName): string | undefined {
    const value = this.readInput(name).trim()
    return value !== '' ? value : DEFAULT_OF[name]
  }

  /** Parses an optional input; on failure records "name: 'value' why" and gives undefined. */
  parse<T>(name: InputName, parser: (value: string) => T): T | undefined {
    const value = this.raw(name)
    return value === undefined ? undefined : this.attempt(name, value, () => parser(value))
  }

  /**
   * Parses an input that has a default, so always has a value: a value that fails is recorded as
   * a problem (the settings are then never used) and stands in as its default.
   */
  defaulted<T>(name: DefaultedInput, parser: (value: string) => T): T {
    return this.parse(name, parser) ?? parser(DEFAULTS[name])
  }

  attempt<T>(name: InputName, value: string, fn: () => T): T | undefined {
    try {
      return fn()
    } catch (error: unknown) {
      if (!(error instanceof InputError)) throw error
      this.problem(name, value, error.message)
      return undefined
    }
  }

  problem(name: InputName, value: string | undefined, why: string): void {
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
