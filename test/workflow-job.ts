// Runs one job of a workflow file here, step by step, as a GitHub runner would, so that a job we
// cannot run on GitHub-hosted runners (the self-test of ci.yml) is still run, from the file
// itself: `run:` steps by bash (-eo pipefail, as the runner's default shell) with a $GITHUB_OUTPUT
// of their own, `uses: ./` by dist/index.js with INPUT_* variables (test/run-action.ts, plus
// action.yml's defaults, which the runner hands over too), `${{ }}` expressions, `if:` and
// `continue-on-error:`. actions/setup-node puts the Node asked for first on PATH and runs `uses: ./`
// with it (scripts/node-bin.sh: the node on PATH if it is that version, else the one npm's registry
// ships). Two steps stand for what the machine already has, and are checked rather than run:
// actions/checkout (this work tree) and `npm ci` (done before the tests). Anything else it does
// not know (another action, a key or an expression it cannot evaluate) is an error, never skipped.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'
import { parseOutputFile, runAction } from './run-action.js'

type Outcome = 'success' | 'failure'

export interface StepRun {
  id?: string
  name: string
  /** skipped: its `if:` was false. provided: stands for what the machine has (see the header). */
  how: 'run' | 'action' | 'provided' | 'skipped'
  outcome: Outcome | 'skipped'
  /** The outcome, or success when it failed under continue-on-error: true. */
  conclusion: Outcome | 'skipped'
  outputs: Record<string, string>
  log: string
}

export interface JobRun {
  conclusion: Outcome
  steps: StepRun[]
}

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string | number | boolean>
  if?: string
  'continue-on-error'?: boolean
}

const STEP_KEYS = ['id', 'name', 'uses', 'run', 'with', 'env', 'if', 'continue-on-error']
const JOB_KEYS = ['name', 'runs-on', 'steps', 'permissions', 'needs', 'timeout-minutes']

/** `${{ steps.<id>.outputs.<name> }}`, `.outcome` and `.conclusion`: what the self-test uses. */
function evaluate(expression: string, steps: Map<string, StepRun>): string {
  const match = /^steps\.([\w-]+)\.(?:outputs\.([\w-]+)|(outcome|conclusion))$/.exec(expression.trim())
  if (!match) throw new Error(`the local runner cannot evaluate \${{ ${expression} }}`)
  const step = steps.get(match[1])
  if (!step) throw new Error(`\${{ ${expression} }}: no step before this one has id ${match[1]}`)
  return match[2] !== undefined ? (step.outputs[match[2]] ?? '') : step[match[3] as 'outcome' | 'conclusion']
}

const substitute = (text: string, steps: Map<string, StepRun>) =>
  text.replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) => evaluate(expression, steps))

const values = (map: Step['env'], steps: Map<string, StepRun>) =>
  Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, substitute(String(value), steps)]))

/** Whether a step runs: `success()` (the default), `failure()` or `always()`. */
function shouldRun(condition: string | undefined, jobFailed: boolean): boolean {
  const expression = (condition ?? 'success()').replace(/^\$\{\{(.*)\}\}$/, '$1').trim()
  if (expression === 'always()') return true
  if (expression === 'success()') return !jobFailed
  if (expression === 'failure()') return jobFailed
  throw new Error(`the local runner cannot evaluate if: ${condition}`)
}

/** The defaults action.yml declares: the runner sets INPUT_* for inputs a step leaves out. */
function actionDefaults(root: string): Record<string, string> {
  const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string | number | boolean }>
  }
  return Object.fromEntries(
    Object.entries(action.inputs)
      .filter(([, input]) => input.default !== undefined)
      .map(([name, input]) => [name, String(input.default)])
  )
}

function runScript(script: string, env: Record<string, string>, root: string): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), 'workflow-step-'))
  const file = join(dir, 'step.sh')
  const outputFile = join(dir, 'output')
  writeFileSync(file, script)
  writeFileSync(outputFile, '')
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd: root,
      env: { ...process.env, ...env, GITHUB_OUTPUT: outputFile },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
      rmSync(dir, { recursive: true, force: true })
      const outcome = code === 0 ? 'success' : 'failure'
      resolve({ name: '', how: 'run', outcome, conclusion: outcome, outputs, log })
    })
  })
}

/** actions/checkout and `npm ci`: checked here, not run (see the header). */
function provided(step: Step, root: string): StepRun | undefined {
  const done = (log: string): StepRun => ({
    name: '',
    how: 'provided',
    outcome: 'success',
    conclusion: 'success',
    outputs: {},
    log
  })
  if (step.uses?.startsWith('actions/checkout@')) {
    if (!existsSync(join(root, '.git'))) throw new Error(`${root} is not a checkout`)
    return done(`the work tree ${root}`)
  }
  if (step.run?.trim() === 'npm ci') {
    const installed = join(root, 'node_modules', '.package-lock.json')
    if (!existsSync(installed)) throw new Error('node_modules is not installed: run npm ci first')
    return done('node_modules installed by npm ci')
  }
  return undefined
}

/** actions/setup-node's work: a node binary of major version `wanted` (scripts/node-bin.sh finds or fetches it). */
function setupNode(wanted: string, root: string): string {
  const dir = execFileSync('bash', [join(root, 'scripts/node-bin.sh'), wanted])
    .toString()
    .trim()
  return join(dir, 'node')
}

/**
 * Runs job `jobName` of the workflow at `workflowFile`, from `root` (the repository); `env` is
 * added to every step's environment (a state file of its own for the test's fleet).
 */
export async function runWorkflowJob(
  workflowFile: string,
  jobName: string,
  root: string,
  env: Record<string, string> = {}
): Promise<JobRun> {
  const workflow = parse(readFileSync(workflowFile, 'utf8')) as { jobs: Record<string, Record<string, unknown>> }
  const job = workflow.jobs[jobName]
  if (!job) throw new Error(`${workflowFile} has no job ${jobName}`)
  for (const key of Object.keys(job))
    if (!JOB_KEYS.includes(key)) throw new Error(`job ${jobName}: the local runner does not support "${key}"`)
  const defaults = actionDefaults(root)
  const byId = new Map<string, StepRun>()
  const runs: StepRun[] = []
  let jobFailed = false
  let node = process.execPath
  for (const [index, step] of (job.steps as Step[]).entries()) {
    const name = step.name ?? step.uses ?? step.run ?? `step ${index + 1}`
    for (const key of Object.keys(step))
      if (!STEP_KEYS.includes(key)) throw new Error(`step "${name}": the local runner does not support "${key}"`)
    let run: StepRun
    if (!shouldRun(step.if, jobFailed)) {
      run = { name, how: 'skipped', outcome: 'skipped', conclusion: 'skipped', outputs: {}, log: '' }
    } else if (step.uses?.startsWith('actions/setup-node@')) {
      node = setupNode(String(step.with?.['node-version']), root)
      env = { ...env, PATH: `${dirname(node)}:${process.env.PATH}` }
      run = { name, how: 'provided', outcome: 'success', conclusion: 'success', outputs: {}, log: `node ${node}` }
    } else if (step.uses === './') {
      const inputs = { ...defaults, ...values(step.with, byId) }
      const stepEnv = { ...env, ...values(step.env, byId) }
      const action = await runAction(inputs, { env: stepEnv, timeoutMs: 180_000, node })
      const outcome = action.code === 0 ? 'success' : 'failure'
      run = {
        name,
        how: 'action',
        outcome,
        conclusion: outcome,
        outputs: action.outputs,
        log: action.stdout + action.stderr
      }
    } else {
      const stands = provided(step, root)
      if (stands) run = stands
      else if (step.run !== undefined)
        run = await runScript(substitute(step.run, byId), { ...env, ...values(step.env, byId) }, root)
      else throw new Error(`step "${name}": the local runner cannot run uses: ${step.uses}`)
    }
    run.name = name
    run.id = step.id
    if (run.outcome === 'failure' && step['continue-on-error'] === true) run.conclusion = 'success'
    if (run.conclusion === 'failure') jobFailed = true
    if (step.id) byId.set(step.id, run)
    runs.push(run)
  }
  return { conclusion: jobFailed ? 'failure' : 'success', steps: runs }
}
