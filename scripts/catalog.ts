// `npm run catalog`: action.yml is the one source of the action's interface. From it this script
// writes src/inputs/catalog.ts (the input names as a type, each input's default, description and
// whether it is secret, and the outputs; the bundle cannot read action.yml at run time) and the
// README's inputs and outputs tables, between their `<!-- inputs:start -->`… markers, as
// actions/checkout's generate-docs does. __tests__/catalog.test.ts fails while either is stale.
//
// action.yml has no field for secrecy: an input whose description begins with "Secret:" is secret
// (masked in every log at once, never quoted back in an error), which the Marketplace page and the
// README then say too.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'

export const SECRET_MARK = 'Secret:'
export const CATALOG_PATH = 'src/inputs/catalog.ts'
const COMMAND = 'npm run catalog'

export interface ActionInput {
  readonly name: string
  readonly description: string
  readonly required: boolean
  readonly secret: boolean
  readonly default?: string
}

export interface ActionOutput {
  readonly name: string
  readonly description: string
}

export interface ActionInterface {
  readonly inputs: readonly ActionInput[]
  readonly outputs: readonly ActionOutput[]
}

type Entries = Record<string, { description?: unknown; required?: unknown; default?: unknown } | null>

/** action.yml's inputs and outputs, in its order; a malformed entry stops the script. */
export function readAction(text: string): ActionInterface {
  const action = parseYaml(text) as { inputs?: Entries; outputs?: Entries }
  const described = (kind: string, entries: Entries | undefined) =>
    Object.entries(entries ?? {}).map(([name, spec]) => {
      if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`action.yml: ${kind} '${name}': expected a-z, 0-9 and -`)
      if (typeof spec?.description !== 'string' || spec.description.trim() === '')
        throw new Error(`action.yml: ${kind} '${name}' has no description`)
      return { name, spec, description: spec.description.trim() }
    })
  const inputs = described('input', action.inputs).map(({ name, spec, description }): ActionInput => {
    // GitHub hands every default to the action as text; YAML would read `true` or 22 as others.
    const fallback = spec?.default === undefined || spec.default === null ? undefined : String(spec.default)
    const entry = { name, description, required: spec?.required === true, secret: description.startsWith(SECRET_MARK) }
    return fallback === undefined ? entry : { ...entry, default: fallback }
  })
  const outputs = described('output', action.outputs).map(({ name, description }) => ({ name, description }))
  if (inputs.length === 0) throw new Error('action.yml declares no inputs')
  return { inputs, outputs }
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`

function inputLine(input: ActionInput): string {
  const fallback = input.default === undefined ? '' : `, default: ${quote(input.default)}`
  const flags = `required: ${input.required}, secret: ${input.secret}`
  return `  { name: ${quote(input.name)}, ${flags}${fallback}, description: ${quote(input.description)} },`
}

/** src/inputs/catalog.ts: the data as literals (one line each), the types derived from them. */
export function catalogSource({ inputs, outputs }: ActionInterface): string {
  const outputLines = outputs.map(
    ({ name, description }) => `  { name: ${quote(name)}, description: ${quote(description)} },`
  )
  return `// Generated from action.yml by \`${COMMAND}\` (scripts/catalog.ts): do not edit. Change action.yml
// and run it again; __tests__/catalog.test.ts fails while this file is stale.

export interface InputSpec {
  readonly name: string
  readonly description: string
  readonly required: boolean
  /** Masked in every log, never quoted back: its description in action.yml begins "${SECRET_MARK}". */
  readonly secret: boolean
  readonly default?: string
}

export interface OutputSpec {
  readonly name: string
  readonly description: string
}

/** action.yml's inputs, in its order. */
// prettier-ignore
export const INPUTS = [
${inputs.map(inputLine).join('\n')}
] as const satisfies readonly InputSpec[]

/** action.yml's outputs, in its order. */
// prettier-ignore
export const OUTPUTS = [
${outputLines.join('\n')}
] as const satisfies readonly OutputSpec[]

type Input = (typeof INPUTS)[number]
export type InputName = Input['name']
/** The inputs action.yml gives a default, so they always have a value. */
export type DefaultedInput = Extract<Input, { readonly default: string }>['name']
export type SecretInput = Extract<Input, { readonly secret: true }>['name']
export type OutputName = (typeof OUTPUTS)[number]['name']

export const INPUT_NAMES: readonly InputName[] = INPUTS.map((input) => input.name)

/** GitHub applies these to a workflow step; every other caller (tests, a terminal) gets them here. */
export const DEFAULTS = Object.fromEntries(
  INPUTS.flatMap((input) => ('default' in input ? [[input.name, input.default]] : []))
) as Readonly<Record<DefaultedInput, string>>

export const SECRET_INPUTS = INPUTS.flatMap((input) => (input.secret ? [input.name] : [])) as readonly SecretInput[]
`
}

/** A cell's text: one line, its pipes escaped. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|')

/** A Markdown table padded as Prettier pads one, so the README stays formatted. */
function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((row) => row.map(cell))
  const widths = header.map((_, column) => Math.max(3, ...all.map((row) => [...row[column]].length)))
  const line = (row: readonly string[]) =>
    `| ${row.map((text, column) => text + ' '.repeat(widths[column] - [...text].length)).join(' | ')} |`
  const [head, ...body] = all
  return [line(head), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')
}

export function inputsTable({ inputs }: ActionInterface): string {
  const fallback = (input: ActionInput) =>
    input.required ? 'required' : input.default === undefined ? '' : `\`${input.default}\``
  return alignedTable(
    ['input', 'default', 'meaning'],
    inputs.map((input) => [`\`${input.name}\``, fallback(input), input.description])
  )
}

export function outputsTable({ outputs }: ActionInterface): string {
  return alignedTable(
    ['output', 'meaning'],
    outputs.map((output) => [`\`${output.name}\``, output.description])
  )
}

/** The README with the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` replaced by `table`. */
function betweenMarkers(readme: string, name: string, table: string): string {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md: expected ${start} and then ${end} around the ${name} table`)
  return `${readme.slice(0, from + start.length)}\n\n${table}\n\n${readme.slice(to)}`
}

export function readmeWithTables(readme: string, action: ActionInterface): string {
  const withInputs = betweenMarkers(readme, 'inputs', inputsTable(action))
  return betweenMarkers(withInputs, 'outputs', outputsTable(action))
}

/** Writes `path` only when its text changes; says which files it wrote. */
function update(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return
  writeFileSync(path, text)
  console.log(`${COMMAND}: wrote ${path}`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const action = readAction(readFileSync('action.yml', 'utf8'))
  update(CATALOG_PATH, catalogSource(action))
  update('README.md', readmeWithTables(readFileSync('README.md', 'utf8'), action))
}
