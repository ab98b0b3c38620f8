// The load balancer probes run here, on the runner: a cloud CLI asking for backend health, or a
// query of an HAProxy admin socket. Node's spawn rather than @actions/exec, which can neither bound
// a command's time nor end it on cancellation; a probe that hangs must not hang the rollout.
import { spawn } from 'node:child_process'
import type { Runner } from '../ports.js'

export const localRunner: Runner = {
  run(command, { env, timeoutMs, signal }) {
    return new Promise((resolve) => {
      // Its own process group, so a pipeline (`echo ... | socat ... | grep ...`) ends as a whole.
      const child = spawn('sh', ['-c', command], {
        env: { ...probeEnvironment(), ...Object.fromEntries(env) },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true
      })
      let lastLine = ''
      const keepLast = (chunk: Buffer) => {
        const lines = chunk
          .toString('utf8')
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
        if (lines.length > 0) lastLine = lines[lines.length - 1].slice(0, 200)
      }
      child.stdout.on('data', keepLast)
      child.stderr.on('data', keepLast)
      let timedOut = false
      const end = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      const timer = setTimeout(() => {
        timedOut = true
        end()
      }, timeoutMs)
      signal.addEventListener('abort', end, { once: true })
      const finish = (code: number | null) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', end)
        resolve({ code: timedOut || signal.aborted ? null : code, timedOut, lastLine })
      }
      child.once('error', (error) => {
        lastLine = error.message
        finish(null)
      })
      child.once('close', finish)
      if (signal.aborted) end()
    })
  }
}

/**
 * The runner's environment (PATH, HOME, a cloud CLI's credentials) without the action's own
 * INPUT_* variables: private-key, passphrase and password are among them, and a probe that
 * prints its environment must not print those.
 */
function probeEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('INPUT_')))
}
