// Runs the bundled command line (dist/cli.js) as a person or another CI would: flags, a config file,
// and stdout piped, or on a pseudo-terminal through util-linux's `script` (as on a terminal, where
// the live progress view is drawn). Returns what the caller would see.
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'

export const CLI_ENTRY = resolve('dist/cli.js')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  /** Milliseconds from the interrupt (if any) to the exit. */
  exitAfterInterruptMs?: number
}

export interface CliOptions {
  /** Sends SIGINT (Ctrl-C) once stdout or stderr contains this text. */
  interruptWhen?: RegExp
  /** Runs it on a pseudo-terminal of this many columns (stdout and stderr then arrive as one). */
  ptyColumns?: number
  timeoutMs?: number
}

/** `--name value` for each input: how a person gives the action's inputs on the command line. */
export function inputFlags(inputs: Record<string, string>): string[] {
  return Object.entries(inputs).flatMap(([name, value]) => [`--${name}`, value])
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`

/** `script` runs the command on a new pseudo-terminal; its stdout is everything the terminal showed. */
function onPty(args: string[], columns: number): [string, string[]] {
  const command = [process.execPath, CLI_ENTRY, ...args].map(shellQuote).join(' ')
  // A new pty has no size: give it one, as a terminal window would.
  return ['script', ['-qfec', `stty cols ${columns} rows 40; exec ${command}`, '/dev/null']]
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const [command, argv] =
    options.ptyColumns === undefined ? [process.execPath, [CLI_ENTRY, ...args]] : onPty(args, options.ptyColumns)
  // Only what a plain shell has: no GITHUB_* variables, no ssh-agent.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm' }
  return new Promise((resolvePromise, reject) => {
    // stdin stays open (a pipe never written to): `script` would end the session at its end.
    const child = spawn(command, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    const run: CliRun = { code: null, stdout: '', stderr: '' }
    let interruptedAt: number | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    const seen = () => {
      if (options.interruptWhen && interruptedAt === undefined && options.interruptWhen.test(run.stdout + run.stderr)) {
        interruptedAt = Date.now()
        child.kill('SIGINT')
      }
    }
    child.stdout.on('data', (chunk: Buffer) => {
      run.stdout += chunk.toString()
      seen()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      run.stderr += chunk.toString()
      seen()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      child.stdin.end()
      run.code = code
      run.exitAfterInterruptMs = interruptedAt === undefined ? undefined : Date.now() - interruptedAt
      resolvePromise(run)
    })
  })
}
