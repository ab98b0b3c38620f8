// Runs the bundled dist/index.js exactly as a GitHub runner does: INPUT_* variables, and
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, with node. Returns what the runner would keep.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const DIST_ENTRY = resolve('dist/index.js')

export interface ActionRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Files the run left in its HOME or RUNNER_TEMP (both empty at the start). */
  leftOnDisk: string[]
  /** The text of the file the report-file output names, read before the run's directory is removed. */
  reportFile?: string
  /** Milliseconds from the interrupt (if any) to the process exit. */
  exitAfterInterruptMs?: number
}

export interface RunOptions {
  /** Sends SIGINT once stdout contains this text (a cancelled workflow). */
  interruptWhen?: RegExp
  timeoutMs?: number
  /** Sees the action's stdout as it comes (the demo shows the log live). */
  onStdout?: (chunk: string) => void
  /** Called with the action's pid once it started (the benchmark reads its memory). */
  onSpawn?: (pid: number) => void
  /** More variables for the action's environment (SSH_AUTH_SOCK). */
  env?: Record<string, string>
  /** false: no GITHUB_STEP_SUMMARY, as on runners without job summaries (Gitea, local-action). */
  jobSummary?: boolean
  /** Run the action on these CPUs only (taskset -c), apart from the fleet: a runner apart from its hosts. */
  cpus?: string
  /** The node that runs dist/index.js (a workflow's setup-node); this process's own by default. */
  node?: string
}

/** `command args` on `cpus` only (taskset), or as is. */
export function onCpus(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]]
}

/** Parses the GITHUB_OUTPUT file format: `name<<DELIMITER\nvalue\nDELIMITER`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const pattern = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm
  for (const match of text.matchAll(pattern)) outputs[match[1]] = match[3]
  return outputs
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  title?: string
  message: string
}

const unescape = (text: string) =>
  text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')

/** The annotations a runner would show, decoded from the workflow commands in stdout. */
export function annotationsOf(stdout: string): Annotation[] {
  const found: Annotation[] = []
  for (const match of stdout.matchAll(/^::(error|warning|notice)( [^:]*)?::(.*)$/gm)) {
    const title = /title=([^,]*)/.exec(match[2] ?? '')?.[1]
    found.push({ level: match[1] as Annotation['level'], title: title && unescape(title), message: unescape(match[3]) })
  }
  return found
}

/** Inputs as the runner hands them to an action: `INPUT_<NAME>` variables. */
export function inputVariables(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value])
  )
}

export function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-run-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  // An empty home and runner temp of its own, so a test can see whatever the action left there.
  const home = join(dir, 'home')
  const runnerTemp = join(dir, 'runner-temp')
  mkdirSync(home)
  mkdirSync(runnerTemp)
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: options.jobSummary === false ? undefined : summaryFile,
    RUNNER_TEMP: runnerTemp
  }
  Object.assign(env, options.env, inputVariables(inputs))
  return new Promise((resolvePromise, reject) => {
    const child = spawn(...onCpus(options.cpus, options.node ?? process.execPath, [DIST_ENTRY]), {
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    if (child.pid !== undefined) options.onSpawn?.(child.pid)
    let stdout = ''
    let stderr = ''
    let interruptedAt: number | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      options.onStdout?.(chunk.toString())
      if (options.interruptWhen && interruptedAt === undefined && options.interruptWhen.test(stdout)) {
        interruptedAt = Date.now()
        child.kill('SIGINT')
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
      const reportPath = outputs['report-file']
      const run: ActionRun = {
        code,
        signal,
        stdout,
        stderr,
        outputs,
        summary: readFileSync(summaryFile, 'utf8'),
        exitAfterInterruptMs: interruptedAt === undefined ? undefined : Date.now() - interruptedAt,
        leftOnDisk: [home, runnerTemp].flatMap((root) =>
          readdirSync(root, { recursive: true }).map((file) => join(root, String(file)))
        ),
        reportFile: reportPath && existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : undefined
      }
      rmSync(dir, { recursive: true, force: true })
      resolvePromise(run)
    })
  })
}
