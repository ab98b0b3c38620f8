// The health path of every host, proven at preflight while every host still serves: a health
// check that cannot work would otherwise be found out only once a host is stopped. health-url
// goes through an SSH tunnel; where the host's sshd refuses to forward (AllowTcpForwarding no, a
// common hardening rule), the request runs on the host with curl or wget if one is there, and
// without either the run fails here, with nothing touched. Only the path is proven, not a healthy
// answer: on a first deploy nothing listens yet. health-command's program must be on the PATH.
import { expandVariables } from '../inputs/parse.js'
import type { Settings } from '../inputs/settings.js'
import type { ExecOptions, HttpResponse, Log, RemoteHost } from '../ports.js'
import * as scripts from '../ssh/health-scripts.js'
import { nonce } from '../ssh/remote-scripts.js'
import { runToEnd } from './run-on-host.js'
import { hostVariables, type HostPlace } from '../variables.js'

/** A host as the run uses it, and how its health is checked (for the log and the dry run). */
export interface ProvenHost {
  readonly host: RemoteHost
  readonly healthPath: string
}

/**
 * The first word of a command when it is a plain program name (after any `NAME=value`
 * assignments), which `command -v` can look for; undefined when the shell text hides it.
 */
export function programOf(command: string): string | undefined {
  const words = command.trim().split(/\s+/)
  const program = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word))
  return program !== undefined && /^[A-Za-z0-9_./+-]+$/.test(program) ? program : undefined
}

/** A host whose sshd refuses tunnels: its health requests run with `client` on the host itself. */
class HttpFromTheHost implements RemoteHost {
  constructor(
    private readonly host: RemoteHost,
    private readonly client: scripts.HostHttpClient
  ) {}

  get target() {
    return this.host.target
  }
  get hostKey() {
    return this.host.hostKey
  }
  exec(command: string, options: ExecOptions) {
    return this.host.exec(command, options)
  }
  upload(localPath: string, remotePath: string) {
    return this.host.upload(localPath, remotePath)
  }
  unpack(localArchive: string, remoteDir: string) {
    return this.host.unpack(localArchive, remoteDir)
  }
  tunnelRefused(url: URL) {
    return this.host.tunnelRefused(url)
  }
  close() {
    return this.host.close()
  }

  async httpGet(url: URL, { timeoutMs, signal }: { timeoutMs: number; signal: AbortSignal }): Promise<HttpResponse> {
    const marker = nonce('status')
    // A long-lived shell merges stderr into stdout: the client's error words may be among the lines.
    const lines: string[] = []
    let status: number | undefined
    const result = await this.host.exec(scripts.getOnHost(this.client, url.href, timeoutMs, marker), {
      env: [],
      timeoutMs: timeoutMs + 1000, // the client's own timeout comes first, with its words
      signal,
      onLine: (line) => {
        if (line.startsWith(`${marker} `)) status = Number(line.slice(marker.length + 1)) || undefined
        else lines.push(line)
      }
    })
    if (status === undefined)
      throw new Error(`${this.client} on the host got no answer: ${lines.at(-1) ?? `exit code ${result.code}`}`)
    if (lines.at(-1) === '') lines.pop() // the line break the script puts before its marker
    return { status, body: lines.join('\n') }
  }
}

/** Runs `script` on the host, bounded by command-timeout: its exit code and output lines. */
function onHost(host: RemoteHost, script: string, settings: Settings, env: ExecOptions['env'] = []) {
  return runToEnd(host, script, { env, timeoutMs: settings.commands.timeoutMs })
}

/**
 * curl or wget on the host's PATH, looked for once more if the first look did not end with an
 * answer (seen once in CI, under load: no exit status); throws why there is none.
 */
async function findHttpClient(host: RemoteHost, settings: Settings, why: string): Promise<scripts.HostHttpClient> {
  let outcome = ''
  for (let look = 1; look <= 2; look++) {
    const { result, lines } = await onHost(host, scripts.FIND_HTTP_CLIENT, settings)
    const client = scripts.HOST_HTTP_CLIENTS.find((name) => lines.includes(name))
    if (result.code === 0 && client !== undefined) return client
    if (result.code === 1)
      throw new Error(
        `${why}, and neither curl nor wget is on its PATH: allow forwarding (AllowTcpForwarding local), put curl or wget on the host, or use health-command`
      )
    outcome = `exit ${result.code}${result.timedOut ? ', timed out' : ''}${result.lost ? `, ${result.lost}` : ''}: ${lines.at(-1) ?? 'no output'}`
  }
  throw new Error(`${why}, and looking for curl or wget on it gave no answer (${outcome})`)
}

/**
 * One host's health path, at its place in the rollout (its variables expand health-url): the host
 * to use (wrapped where requests run on it) and its description; throws why it cannot work.
 */
export function proveHealthPath(host: RemoteHost, settings: Settings, place: HostPlace, log: Log): Promise<ProvenHost> {
  return proveOne(host, settings, hostVariables(settings, place), log)
}

async function proveOne(host: RemoteHost, settings: Settings, env: ExecOptions['env'], log: Log): Promise<ProvenHost> {
  const { url, command } = settings.health
  if (url === undefined) {
    const program = programOf(command ?? '')
    if (program === undefined) return { host, healthPath: 'health-command (its program not checked: shell text)' }
    const { result } = await onHost(host, scripts.findProgram(program), settings, env)
    if (result.code !== 0)
      throw new Error(`health-command's program ${program} is not on the host's PATH (command -v ${program} failed)`)
    return { host, healthPath: 'health-command on the host' }
  }
  const expanded = new URL(expandVariables(url, new Map(env)))
  const refused = await host.tunnelRefused(expanded)
  if (refused === undefined) return { host, healthPath: `SSH tunnel to ${expanded.host}` }
  const why = `its sshd refuses the SSH tunnel to ${expanded.host} for health-url (${refused}: AllowTcpForwarding or PermitOpen in its sshd_config)`
  const client = await findHttpClient(host, settings, why)
  log.info(`[${host.target.entry}] ${why}: its health checks run with ${client} on the host`)
  return { host: new HttpFromTheHost(host, client), healthPath: `${client} on the host (sshd refuses tunnels)` }
}
