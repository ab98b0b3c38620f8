// A simulated big fleet: hundreds of hosts on one machine, each its own loopback address
// (127.1.x.y), reached by real SSH. Each host is one sshd (MaxStartups 10:30:100, a common hardened
// setting) with a host key of its own, in a mount namespace of its own where HOST_VIEW and the login
// home are that host's directories, as on the small fleet (ssh-hosts.ts): a file one host writes is
// invisible to the others. Not one sshd on 0.0.0.0 for every address: sshd shows one key whatever
// address was dialled, and preflight rightly refuses entries that show the same key (one machine
// listed twice). The hosts run no app and no web server: the "app" is a file, its commands are sh.
import { execFileSync, spawn } from 'node:child_process'
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeKey } from './openssh-key.js'
import { freePortOnAll } from './ports.js'
import { isRunning, track } from './processes.js'
import { onCpus } from '../run-action.js'
import { HOST_VIEW, loginUser, TEST_HOME, type Reachable } from './ssh-hosts.js'

export const BIG_FLEET_PREFIX = 'rollout-bigfleet-'
export const MAX_STARTUPS = '10:30:100'

export interface BigHost {
  readonly name: string
  readonly address: string
  readonly port: number
  /** `user@address:port`, as the hosts input names it. */
  readonly entry: string
  /** The host's disk, HOST_VIEW inside its sessions, read directly by the tests. */
  readonly root: string
  /** The login user's home on this host (the deploy lock and journal live there by default). */
  readonly home: string
  readonly hostPublicKey: string
}

export interface BigFleet extends Reachable {
  readonly port: number
  readonly hosts: readonly BigHost[]
  readonly clientPrivateKey: string
  /** The pids of the hosts' sshd listeners. */
  readonly sshdPids: readonly number[]
  /** Writes `file` on the host's disk (HOST_VIEW/file in its sessions), owned by the login user. */
  writeOnHost(host: BigHost, file: string, text: string): void
  /** Lines the hosts' sshd logged with `text` in them ("past MaxStartups": a dropped handshake). */
  sshdLogLines(text: string): string[]
  close(): Promise<void>
}

/** The index'th address: 127.1.1.1 … 127.1.1.250, 127.1.2.1 …, up to 62,500 hosts. */
export const bigAddress = (index: number) => `127.1.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`

/** Every process in one of `namespaces` (mount namespace links, `mnt:[N]`): a host's sshd and sessions. */
function processesIn(namespaces: ReadonlySet<string>): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return namespaces.has(readlinkSync(`/proc/${pid}/ns/mnt`))
      } catch {
        return false // gone meanwhile
      }
    })
    .map(Number)
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Kills what a run that died without its teardown left (its namespaces' processes) and removes its dir. */
export function removeStaleBigFleets(): void {
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(BIG_FLEET_PREFIX))) {
    const dir = join(tmpdir(), name)
    const owner = existsSync(join(dir, 'owner')) ? Number(readFileSync(join(dir, 'owner'), 'utf8')) : 0
    if (owner > 0 && isRunning(owner)) continue
    const namespaces = existsSync(join(dir, 'namespaces')) ? readFileSync(join(dir, 'namespaces'), 'utf8') : ''
    killAll(processesIn(new Set(namespaces.split('\n').filter(Boolean))))
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Ids {
  uid: number
  gid: number
}
const idsOf = (user: string): Ids => ({
  uid: Number(execFileSync('id', ['-u', user]).toString()),
  gid: Number(execFileSync('id', ['-g', user]).toString())
})

/** The host's disk and home, owned by the login user. */
function makeHostDirs(root: string, owner: Ids): void {
  for (const path of [root, `${root}.home`]) {
    mkdirSync(path, { recursive: true })
    chownSync(path, owner.uid, owner.gid)
  }
}

function sshdConfig(dir: string): string {
  const config = join(dir, 'sshd_config')
  writeFileSync(
    config,
    [
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin yes',
      `MaxStartups ${MAX_STARTUPS}`,
      'LogLevel INFO',
      'PidFile none',
      ''
    ].join('\n')
  )
  return config
}

/** Starts a host's sshd in its own mount namespace; resolves with its pid once it listens. */
async function startHost(host: BigHost, config: string, dir: string, cpus?: string): Promise<number> {
  const log = join(dir, 'logs', `${host.name}.log`)
  // -r: no re-exec of sshd for each connection, which costs the shared core about a third of a
  // handshake (its rereading of the config and keys); the hosts of a real fleet each have their own.
  const sshd = ['/usr/sbin/sshd', '-r', '-D', '-f', config, '-E', log]
  const options = [`ListenAddress ${host.address}:${host.port}`, `HostKey ${join(dir, 'keys', host.name)}`]
  options.push(`SetEnv HOST_NAME=${host.name} HOST_ADDRESS=${host.address}`)
  const args = [...sshd, ...options.flatMap((option) => ['-o', option])]
  // The host's disk and home over the shared paths, in its own namespace (made by makeHostDirs).
  const mounts = `mount --bind ${host.root} ${HOST_VIEW} && mount --bind ${host.home} ${TEST_HOME} && exec "$@"`
  const view = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', mounts, 'sshd']
  const child = track(spawn(...onCpus(cpus, view[0], [...view.slice(1), ...args]), { stdio: 'ignore' }))
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(false)))
  const started = await Promise.race([listening(log), exited]).catch((error: unknown) => {
    child.kill('SIGKILL') // did not listen in time: not left behind for the teardown to miss
    throw error
  })
  if (!started)
    throw new Error(`sshd on ${host.name} exited at start: ${existsSync(log) ? readFileSync(log, 'utf8') : ''}`)
  return child.pid ?? -1
}

/**
 * Waits for sshd's "Server listening" in its log. Not a test connection, as daemon.ts makes: each
 * one costs sshd a session process (a fork and an exec), 500 of them seconds of CPU.
 */
async function listening(log: string): Promise<true> {
  for (let waited = 0; waited < 30_000; waited += 25) {
    if (existsSync(log) && readFileSync(log, 'utf8').includes('Server listening')) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`sshd did not listen within 30 s: ${readFileSync(log, 'utf8')}`)
}

/**
 * Runs `fn` on every item, at most `limit` at once (500 starts at once would starve the machine);
 * after a failure starts no more, and throws it once those under way are done (so that the
 * teardown after it finds every process they started).
 */
async function eachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    for (let i = next++; i < items.length && !failed; i = next++)
      await fn(items[i]).catch((error: unknown) => {
        failed = true
        throw error
      })
  }
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker))
  const failure = settled.find((result) => result.status === 'rejected')
  if (failure) throw failure.reason
}

/**
 * Starts `count` hosts on 127.1.1.1…, their sshd (and so their sessions) on `cpus` if given (the
 * bench keeps them apart from the action); `close` kills every process in their namespaces.
 */
export async function startBigFleet(count: number, cpus?: string): Promise<BigFleet> {
  removeStaleBigFleets()
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  mkdirSync(HOST_VIEW, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), BIG_FLEET_PREFIX))
  chmodSync(dir, 0o755)
  writeFileSync(join(dir, 'owner'), String(process.pid))
  mkdirSync(join(dir, 'logs'))
  const namespaces = new Set<string>()
  const sshdPids: number[] = []
  const close = async () => {
    killAll(sshdPids)
    killAll(processesIn(namespaces))
    await waitUntilGone(namespaces)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const user = loginUser()
    const owner = idsOf(user)
    mkdirSync(join(dir, 'keys'))
    const clientKeyPath = join(dir, 'client_key')
    writeKey(clientKeyPath, 'rollout-big-fleet')
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKeyPath}.pub`))
    const addresses = Array.from({ length: count }, (_, i) => bigAddress(i))
    const port = await freePortOnAll([addresses[0], addresses[addresses.length - 1]])
    const hosts = addresses.map((address, i): BigHost => {
      const name = `host${i + 1}`
      const root = join(dir, 'hosts', name)
      makeHostDirs(root, owner)
      const hostPublicKey = writeKey(join(dir, 'keys', name), name)
      return { name, address, port, entry: `${user}@${address}:${port}`, root, home: `${root}.home`, hostPublicKey }
    })
    const config = sshdConfig(dir)
    await eachBounded(hosts, 25, async (host) => {
      const pid = await startHost(host, config, dir, cpus)
      sshdPids.push(pid)
      const namespace = readlinkSync(`/proc/${pid}/ns/mnt`)
      namespaces.add(namespace)
      appendFileSync(join(dir, 'namespaces'), `${namespace}\n`)
    })
    return {
      dir,
      user,
      port,
      hosts,
      clientKeyPath,
      clientPrivateKey: readFileSync(clientKeyPath, 'utf8'),
      sshdPids,
      writeOnHost(host, file, text) {
        writeFileSync(join(host.root, file), text)
        chownSync(join(host.root, file), owner.uid, owner.gid)
      },
      knownHosts: () => knownHostsOf(hosts),
      sshdLogLines: (text) =>
        readdirSync(join(dir, 'logs')).flatMap((log) =>
          readFileSync(join(dir, 'logs', log), 'utf8')
            .split('\n')
            .filter((line) => line.includes(text))
        ),
      close
    }
  } catch (error: unknown) {
    await close()
    throw error
  }
}

/** Waits (up to 5 s) until no process is left in `namespaces`: then they are gone with their mounts. */
async function waitUntilGone(namespaces: ReadonlySet<string>): Promise<void> {
  for (let i = 0; i < 50 && processesIn(namespaces).length > 0; i++) {
    killAll(processesIn(namespaces))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const knownHostsOf = (hosts: readonly BigHost[]) =>
  hosts.map((host) => `[${host.address}]:${host.port} ${host.hostPublicKey}`).join('\n') + '\n'

/**
 * The action inputs that reach `hosts` (all by default): hosts, the key, and their known_hosts as
 * a file (known-hosts-file): past about 1,100 hosts the text is more than one input may hold.
 */
export function bigFleetInputs(fleet: BigFleet, hosts = fleet.hosts): Record<string, string> {
  const knownHostsFile = join(fleet.dir, `known_hosts.${hosts.length}`)
  writeFileSync(knownHostsFile, knownHostsOf(hosts))
  return {
    hosts: hosts.map((host) => host.entry).join('\n'),
    'private-key': fleet.clientPrivateKey,
    'known-hosts-file': knownHostsFile
  }
}
