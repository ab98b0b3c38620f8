// Runs a server in the foreground as a tracked child, waits until its port answers, and stops it
// (TERM, then KILL) at teardown. sshd, nginx and HAProxy all go through here.
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { track } from './processes.js'

export interface Daemon {
  readonly name: string
  readonly pid: number
  running(): boolean
  stop(): Promise<void>
  /** What it printed on stderr, for a failing test's message. */
  output(): string
}

export function waitForPort(address: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: address, port })
      socket.once('connect', () => {
        socket.destroy()
        resolve()
      })
      socket.once('error', (error) => {
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${address}:${port}: ${error.message}`))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  ready: { address: string; port: number }
): Promise<Daemon> {
  let stderr = ''
  const child: ChildProcess = track(spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] }))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const daemon: Daemon = {
    name,
    pid: child.pid ?? -1,
    output: () => stderr,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (!daemon.running()) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
  }
  try {
    await Promise.race([
      waitForPort(ready.address, ready.port),
      exited.then(() => {
        throw new Error(`exited at start`)
      })
    ])
  } catch (error: unknown) {
    await daemon.stop()
    throw new Error(`${name} did not start: ${(error as Error).message}\n${stderr}`)
  }
  return daemon
}
