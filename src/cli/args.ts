// The command line's arguments → the action's raw inputs: every input is a flag of its own name, and
// `--config FILE` gives the same keys in YAML, flags winning. Values stay text, exactly what a
// workflow's `with:` would hand the action, so getSettings validates them the one way it knows.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { INPUT_NAMES, INPUTS } from '../inputs/catalog.js'
import { errorMessage } from '../errors.js'

/** Wrong use of the command itself (unknown flag, unreadable config): exit code 2, as for invalid input. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface CommandLine {
  readonly help: boolean
  /** The report as JSON on stdout; people's output goes to stderr. */
  readonly json: boolean
  /** Raw input values by input name, as a workflow's `with:` gives them. */
  readonly inputs: Readonly<Record<string, string>>
}

const OWN_OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const satisfies ParseArgsConfig['options']

// Every input of action.yml (src/inputs/catalog.ts) is a flag. `multiple`: a repeated flag adds a
// line, as lines do in a workflow's multi-line inputs (`--env A=1 --env B=2`, `--hosts web1 --hosts
// web2`); a single-valued input given twice then fails its own validation.
const INPUT_OPTIONS = Object.fromEntries(INPUT_NAMES.map((name) => [name, { type: 'string', multiple: true }] as const))

export function parseCommandLine(argv: readonly string[], readFile: (path: string) => string): CommandLine {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OWN_OPTIONS }>>
  try {
    parsed = parseArgs({ args: [...argv], options: { ...INPUT_OPTIONS, ...OWN_OPTIONS }, strict: true })
  } catch (error: unknown) {
    // parseArgs says what was wrong (unknown option, missing value, a positional argument). Its
    // errors are Errors of node's own realm, which instanceof does not see as such under jest.
    throw new UsageError((error as Error).message)
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  const fromFlags = Object.fromEntries(
    INPUT_NAMES.flatMap((name) => {
      const given = values[name]
      return Array.isArray(given) ? [[name, given.join('\n')]] : []
    })
  )
  const config = typeof values.config === 'string' ? readConfig(values.config, readFile) : {}
  return { help: values.help === true, json: values.json === true, inputs: { ...config, ...fromFlags } }
}

/** A `--config` file: a YAML mapping of input names to values. */
export function readConfig(path: string, readFile: (path: string) => string): Record<string, string> {
  let text: string
  try {
    text = readFile(path)
  } catch (error: unknown) {
    throw new UsageError(`--config ${path}: cannot be read (${errorMessage(error)})`)
  }
  let document: unknown
  try {
    document = parseYaml(text)
  } catch (error: unknown) {
    throw new UsageError(`--config ${path}: not valid YAML: ${errorMessage(error)}`)
  }
  if (document === null || document === undefined) return {}
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new UsageError(`--config ${path}: expected a mapping of input names to values`)
  }
  const known = new Set<string>(INPUT_NAMES)
  return Object.fromEntries(
    Object.entries(document).map(([key, value]) => {
      if (!known.has(key)) throw new UsageError(`--config ${path}: '${key}' is not an input (see --help)`)
      return [key, inputText(value, `--config ${path}: ${key}`)]
    })
  )
}

/**
 * A YAML value as the input's text: scalars as written, a list as lines (hosts, shared-paths), a
 * mapping as KEY=value lines (env). Never the value itself in an error: it may be a secret.
 */
function inputText(value: unknown, where: string): string {
  if (value === null) return ''
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  const scalar = (item: unknown) => {
    if (typeof item === 'object' && item !== null) throw new UsageError(`${where}: expected text, a list or a mapping`)
    return String(item)
  }
  if (Array.isArray(value)) return value.map(scalar).join('\n')
  if (typeof value === 'object')
    return Object.entries(value)
      .map(([name, item]) => `${name}=${scalar(item)}`)
      .join('\n')
  throw new UsageError(`${where}: expected text, a list or a mapping`)
}

/** `text` in lines of at most `width` characters, broken between words. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  for (const word of text.split(/\s+/)) {
    const last = lines.length - 1
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`
    else lines.push(word)
  }
  return lines
}

/** Every input of action.yml as a flag, with its default and its description (src/inputs/catalog.ts). */
function flagLines(): string[] {
  return INPUTS.flatMap((input) => {
    const note = input.required ? ' (required)' : 'default' in input ? ` (default ${input.default})` : ''
    return [`  --${input.name} VALUE${note}`, ...wrap(input.description, 94).map((line) => `      ${line}`)]
  })
}

export function helpText(): string {
  return [
    'Usage: rolling-deploy --hosts HOSTS --health-url URL ... [--config rollout.yml] [--json]',
    '',
    "Rolls a release across hosts behind a load balancer over SSH: the rolling-deploy action's engine",
    'and inputs, from a terminal or any CI. Every input of the action is a flag of the same name,',
    'described below as in action.yml. A flag given twice adds a line (--env, --hosts); a value that',
    'starts with a dash is given as --name=VALUE.',
    '',
    '  --config FILE    a YAML mapping of the same input names to values; flags override it',
    '  --json           print the report as JSON on stdout (the log goes to stderr)',
    '  -h, --help       this text',
    '',
    'Secrets: --private-key takes the path of a key file (or use ssh-agent through SSH_AUTH_SOCK);',
    'put a password or passphrase in the --config file rather than on the command line, where `ps`',
    'shows it to other users. No secret is ever printed.',
    '',
    'Exit codes: 0 success, 1 failure, 2 invalid input, 130 cancelled (Ctrl-C: nothing new starts,',
    'hosts in flight are left safe, the report is printed).',
    '',
    'Inputs:',
    ...flagLines(),
    ''
  ].join('\n')
}
