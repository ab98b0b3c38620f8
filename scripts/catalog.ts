// `npm run catalog`: action.yml is the one source of the action's interface. From it this script
// writes src/inputs/catalog.ts (the input names as a type, each input's default, description and
// whether it is secret, and the outputs; the bundle cannot read action.yml at run time) and the
// tables of inputs and outputs, between their `<!-- inputs:start -->`… markers, as
// actions/checkout's generate-docs does: whole in docs/inputs.md, each description's first sentence
// in the README (to keep it short). __tests__/unit/catalog.test.ts fails while any of them is stale.
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
// and run it again; __tests__/unit/catalog.test.ts fails while this file is stale.

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

/**
 * A description's first sentence, for the README's short table: up to the first full stop (or `;`)
 * that ends a sentence; not one inside parentheses or code, nor the one of "e.g." or "i.e.".
 */
export function firstSentence(description: string): string {
  const text = description.replace(/\s*\n\s*/g, ' ')
  let depth = 0
  let code = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '`') code = !code
    else if (!code && c === '(') depth++
    else if (!code && c === ')') depth = Math.max(0, depth - 1)
    else if (!code && depth === 0 && (c === '.' || c === ';') && /\s/.test(text[i + 1] ?? ' ')) {
      if (!/\b(?:e\.g|i\.e|etc)$/.test(text.slice(0, i))) return text.slice(0, i)
    }
  }
  return text
}

/** How much of each description a table shows: all of it, or its first sentence. */
export type Detail = 'full' | 'summary'

const described = (description: string, detail: Detail) =>
  detail === 'full' ? description : firstSentence(description)

export function inputsTable({ inputs }: ActionInterface, detail: Detail = 'full'): string {
  const fallback = (input: ActionInput) =>
    input.required ? 'required' : input.default === undefined ? '' : `\`${input.default}\``
  return alignedTable(
    ['input', 'default', 'meaning'],
    inputs.map((input) => [`\`${input.name}\``, fallback(input), described(input.description, detail)])
  )
}

export function outputsTable({ outputs }: ActionInterface, detail: Detail = 'full'): string {
  return alignedTable(
    ['output', 'meaning'],
    outputs.map((output) => [`\`${output.name}\``, described(output.description, detail)])
  )
}

/** `page` with the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` replaced by `table`. */
function betweenMarkers(file: string, page: string, name: string, table: string): string {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const from = page.indexOf(start)
  const to = page.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${file}: expected ${start} and then ${end} around the ${name} table`)
  return `${page.slice(0, from + start.length)}\n\n${table}\n\n${page.slice(to)}`
}

/** `page` (README.md, or docs/inputs.md at `full` detail) with both tables written from `action`. */
export function pageWithTables(file: string, page: string, action: ActionInterface, detail: Detail): string {
  const withInputs = betweenMarkers(file, page, 'inputs', inputsTable(action, detail))
  return betweenMarkers(file, withInputs, 'outputs', outputsTable(action, detail))
}

/** The pages holding the tables, and how much of each description they show. */
export const TABLE_PAGES: readonly { readonly file: string; readonly detail: Detail }[] = [
  { file: 'README.md', detail: 'summary' },
  { file: 'docs/inputs.md', detail: 'full' }
]

/** Writes `path` only when its text changes; says which files it wrote. */
function update(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return
  writeFileSync(path, text)
  console.log(`${COMMAND}: wrote ${path}`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const action = readAction(readFileSync('action.yml', 'utf8'))
  update(CATALOG_PATH, catalogSource(action))
  for (const { file, detail } of TABLE_PAGES)
    update(file, pageWithTables(file, readFileSync(file, 'utf8'), action, detail))
}
