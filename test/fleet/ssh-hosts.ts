// Real OpenSSH sshd processes for the tests, one per "host". Each host gets its own loopback
// address (127.0.0.2, 127.0.0.3, ... are all on `lo`), so every host can run the same app on the
// same port, and one health-url (`http://${ROLLOUT_HOST}:PORT/`) fits all, as on a real fleet.
// sshd's SetEnv gives each host's sessions HOST_ROOT, the directory standing in for its disk.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'
import { onCpus } from '../run-action.js'
import { startDaemon, type Daemon } from './daemon.js'

export interface SshHost {
  readonly name: string
  /** Loopback address the host owns: its sshd, app and web server all bind it. */
  readonly address: string
  readonly port: number
  /** The host's "disk": HOST_ROOT in every SSH session on it. */
  readonly root: string
  /** `user@address:port`, as the hosts input names it. */
  readonly entry: string
  hostPublicKey: string
  fingerprint: string
  stopSshd(): Promise<void>
  startSshd(): Promise<void>
  /** Kills the sshd processes serving open connections (the listener stays): a dropped link. */
  dropConnections(): void
  /** The machine goes away: its listener dies before its connections, so no reconnect can win. */
  crash(): Promise<void>
  /** What the running sshd logged (LogLevel INFO: each accepted login shows up). */
  sshdLog(): string
  /** Every host key sshd offers: its kind, `type base64` line and fingerprint. */
  hostKeys(): { kind: KeyKind; line: string; fingerprint: string }[]
}

export interface SshFleet {
  readonly dir: string
  readonly user: string
  readonly clientKeyPath: string
  readonly clientPrivateKey: string
  /** known_hosts text for every host, in `[address]:port` form as ssh-keyscan prints it. */
  knownHosts(): string
  readonly hosts: SshHost[]
  /** Gives a host a new host key and restarts its sshd: a changed key, or a machine in the middle. */
  swapHostKey(index: number): Promise<void>
  /**
   * Makes every login run `script` before its command (a forced command in authorized_keys):
   * `sleep 1.5` for a host under load, a PATH without some tool; returns the function that undoes it.
   */
  beforeEveryLogin(script: string): () => void
  close(): Promise<void>
}

const SSHD = '/usr/sbin/sshd'
/**
 * The same absolute path on every test host, showing that host's own disk (`root`), as a
 * release-dir on a real fleet is one path with different contents per machine.
 */
export const HOST_VIEW = '/srv/rollout-host'

/** The shell text that binds a host's own disk and home into its namespace, then execs sshd ("$@"). */
function ownView(root: string): string {
  const home = `${root}.home`
  return `mkdir -p ${home} && chown ${TEST_USER} ${home} && mount --bind ${root} ${HOST_VIEW} && mount --bind ${home} ${TEST_HOME} && exec "$@"`
}
export const TEST_USER = 'rollout-test'
export const TEST_HOME = '/var/lib/rollout-test'

/**
 * The login user on the test hosts. As root: a deploy user with /bin/sh as its shell, like a real
 * fleet's; logging in as root would make every command source root's ~/.bashrc (bash does that for
 * sshd), which on these machines costs more than half a second and would distort every figure.
 */
function userInfoOf(name: string): { home: string } {
  const entry = execFileSync('getent', ['passwd', name]).toString().trim().split(':')
  return { home: entry[5] }
}

export function loginUser(): string {
  if (process.getuid?.() !== 0) return userInfo().username
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' })
  } catch {
    // '*' as the password: no password login, but not a locked account, which sshd would refuse.
    execFileSync('useradd', ['--system', '--password', '*', '--shell', '/bin/sh', '--home-dir', TEST_HOME, TEST_USER])
  }
  if (userInfoOf(TEST_USER).home !== TEST_HOME) execFileSync('usermod', ['--home', TEST_HOME, TEST_USER])
  mkdirSync(TEST_HOME, { recursive: true })
  execFileSync('chown', [TEST_USER, TEST_HOME])
  return TEST_USER
}

/** A key type of ssh-keygen's -t. */
export type KeyKind = 'ed25519' | 'rsa' | 'ecdsa'

function keygen(path: string, comment: string, kind: KeyKind = 'ed25519'): void {
  rmSync(path, { force: true })
  rmSync(`${path}.pub`, { force: true })
  execFileSync('ssh-keygen', ['-q', '-t', kind, '-N', '', '-C', comment, '-f', path])
}

/** A public key file's `type base64` and its SHA256 fingerprint. */
function publicKeyOf(path: string): { line: string; fingerprint: string } {
  return {
    line: readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    fingerprint: execFileSync('ssh-keygen', ['-lf', `${path}.pub`])
      .toString()
      .split(/\s+/)[1]
  }
}

class Host implements SshHost {
  private sshd?: Daemon
  hostPublicKey = ''
  fingerprint = ''

  constructor(
    readonly name: string,
    readonly address: string,
    readonly port: number,
    readonly root: string,
    readonly entry: string,
    private readonly config: string,
    readonly keyPath: string,
    private readonly kinds: readonly KeyKind[]
  ) {
    this.readKey()
  }

  readKey(): void {
    const { line, fingerprint } = publicKeyOf(this.keyPath)
    this.hostPublicKey = line
    this.fingerprint = fingerprint
  }

  hostKeys(): { kind: KeyKind; line: string; fingerprint: string }[] {
    return this.kinds.map((kind) => ({ kind, ...publicKeyOf(hostKeyPath(this.keyPath, kind)) }))
  }

  async startSshd(): Promise<void> {
    // A second sshd could not bind the port, yet would find it answering (the first one).
    if (this.sshd?.running()) return
    const sshd = [SSHD, '-D', '-e', '-f', this.config]
    // As root, each sshd (and every session it starts) sees its own host's disk at HOST_VIEW and
    // its own login home: a mount namespace per host, as separate machines would have.
    const [command, ...args] =
      process.getuid?.() === 0
        ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', ownView(this.root), 'sshd', ...sshd]
        : sshd
    this.sshd = await startDaemon(`sshd on ${this.name}`, command, args, this)
  }

  async stopSshd(): Promise<void> {
    await this.sshd?.stop()
    this.sshd = undefined
  }

  sshdLog(): string {
    return this.sshd?.output() ?? ''
  }

  dropConnections(): void {
    for (const session of this.connectionSessions()) spawnSync('pkill', ['-KILL', '-s', session])
  }

  async crash(): Promise<void> {
    const sessions = this.connectionSessions()
    if (this.sshd) process.kill(this.sshd.pid, 'SIGKILL')
    for (const session of sessions) spawnSync('pkill', ['-KILL', '-s', session])
    await this.stopSshd()
  }

  /** Each connection is a monitor (child of the listener) and its unprivileged child, which holds
   *  the socket, in one session of their own: killing the session is a crash or a cut link. */
  private connectionSessions(): string[] {
    if (!this.sshd) return []
    return spawnSync('pgrep', ['-P', String(this.sshd.pid)])
      .stdout.toString()
      .split(/\s+/)
      .filter(Boolean)
  }
}

export interface SshFleetOptions {
  firstAddress?: number
  /** Also accept this password for the login user (root only: it sets the test user's password). */
  password?: string
  /** sshd's MaxSessions: sessions (commands, shells) open at once on one connection. */
  maxSessions?: number
  /** sshd's MaxStartups (default 100:30:200): unauthenticated connections past its first number may be dropped. */
  maxStartups?: string
  /** The host keys each sshd has (default: ed25519 only); the first is hostPublicKey. */
  hostKeyKinds?: readonly KeyKind[]
  /** Whether sshd offers the SFTP subsystem (default: yes); hardened hosts often do not. */
  sftp?: boolean
  /** sshd's AllowTcpForwarding (default: yes) for the hosts whose index (0-based) `forwardingRefused` holds. */
  forwardingRefused?: readonly number[]
  /** sshd's AllowStreamLocalForwarding (default: yes), for unix sockets, likewise. */
  streamLocalRefused?: readonly number[]
}

/** The ed25519 key lives at `keyPath`, a host's others beside it. */
const hostKeyPath = (keyPath: string, kind: KeyKind) => (kind === 'ed25519' ? keyPath : `${keyPath}_${kind}`)

/** Starts `count` sshd hosts on 127.0.0.{first..}, logging in as the current user with one key. */
export async function startSshFleet(count: number, options: SshFleetOptions = {}): Promise<SshFleet> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }) // sshd's privilege separation directory
  mkdirSync(HOST_VIEW, { recursive: true }) // the mount point of each host's own view
  const dir = mkdtempSync(join(tmpdir(), 'rollout-fleet-'))
  chmodSync(dir, 0o755)
  const user = loginUser()
  if (options.password !== undefined) {
    if (user !== TEST_USER) throw new Error('a password login needs root, to set the test user password')
    execFileSync('chpasswd', { input: `${user}:${options.password}\n` })
  }
  const clientKeyPath = join(dir, 'client_key')
  keygen(clientKeyPath, 'rollout-test-client')
  const authorizedKeys = join(dir, 'authorized_keys')
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`))
  const hosts: Host[] = []
  const first = options.firstAddress ?? 2 + Math.floor(Math.random() * 200)
  for (let i = 0; i < count; i++) {
    const name = `host${i + 1}`
    const address = `127.0.0.${first + i}`
    const root = join(dir, name)
    mkdirSync(root, { recursive: true })
    if (user === TEST_USER) execFileSync('chown', [user, root])
    const keyPath = join(dir, `${name}_host_key`)
    const kinds = options.hostKeyKinds ?? ['ed25519']
    for (const kind of kinds) keygen(hostKeyPath(keyPath, kind), name, kind)
    const port = await freePort(address)
    const config = join(dir, `${name}_sshd_config`)
    writeFileSync(
      config,
      [
        `ListenAddress ${address}:${port}`,
        ...kinds.map((kind) => `HostKey ${hostKeyPath(keyPath, kind)}`),
        `PidFile ${join(dir, `${name}.pid`)}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'StrictModes no',
        'UsePAM no',
        `PasswordAuthentication ${options.password === undefined ? 'no' : 'yes'}`,
        'KbdInteractiveAuthentication no',
        'PermitRootLogin yes',
        `AllowTcpForwarding ${options.forwardingRefused?.includes(i) ? 'no' : 'yes'}`,
        `AllowStreamLocalForwarding ${options.streamLocalRefused?.includes(i) ? 'no' : 'yes'}`,
        `MaxSessions ${options.maxSessions ?? 50}`,
        `MaxStartups ${options.maxStartups ?? '100:30:200'}`,
        'LogLevel INFO',
        ...(options.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
        `SetEnv HOST_ROOT=${root} HOST_NAME=${name} HOST_ADDRESS=${address}`,
        ''
      ].join('\n')
    )
    hosts.push(
      new Host(name, address, port, root, `${user}@${address}:${port}`, config, hostKeyPath(keyPath, kinds[0]), kinds)
    )
  }
  const fleet: SshFleet = {
    dir,
    user,
    clientKeyPath,
    clientPrivateKey: readFileSync(clientKeyPath, 'utf8'),
    hosts,
    knownHosts: () => hosts.map((host) => `[${host.address}]:${host.port} ${host.hostPublicKey}`).join('\n') + '\n',
    async swapHostKey(index) {
      const host = hosts[index]
      await host.stopSshd()
      keygen(host.keyPath, `${host.name}-swapped`)
      host.readKey()
      await host.startSshd()
    },
    beforeEveryLogin(script) {
      const key = readFileSync(`${clientKeyPath}.pub`, 'utf8')
      writeFileSync(authorizedKeys, `command="${script}; eval \\"$SSH_ORIGINAL_COMMAND\\"" ${key}`)
      return () => writeFileSync(authorizedKeys, key)
    },
    async close() {
      await Promise.all(hosts.map((host) => host.stopSshd()))
      rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    await Promise.all(hosts.map((host) => host.startSshd()))
  } catch (error: unknown) {
    await fleet.close()
    throw error
  }
  return fleet
}

/** The action inputs that reach every host of the fleet: the host list, the key and known_hosts. */
export function connectionInputs(fleet: SshFleet): Record<string, string> {
  return {
    hosts: fleet.hosts.map((host) => host.entry).join('\n'),
    'private-key': fleet.clientPrivateKey,
    'known-hosts': fleet.knownHosts()
  }
}

/** What ssh needs of a fleet and of a host: the small fleet and the big one (big-fleet.ts) both have it. */
export type Reachable = Pick<SshFleet, 'dir' | 'user' | 'clientKeyPath' | 'knownHosts'>
type ReachableHost = Pick<SshHost, 'address' | 'port'>

function sshArgs(fleet: Reachable, host: ReachableHost, command: string): string[] {
  const knownHostsFile = join(fleet.dir, 'known_hosts_client')
  writeFileSync(knownHostsFile, fleet.knownHosts())
  return [
    '-i',
    fleet.clientKeyPath,
    '-p',
    String(host.port),
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `${fleet.user}@${host.address}`,
    command
  ]
}

/** Runs a command on a host through the real OpenSSH client, for tests to look at a host. */
export function sshRun(fleet: Reachable, host: ReachableHost, command: string): string {
  return execFileSync('ssh', sshArgs(fleet, host, command)).toString()
}

/** sshRun without blocking the event loop (traffic and sampling go on meanwhile). */
export function sshRunAsync(fleet: SshFleet, host: SshHost, command: string, cpus?: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(...onCpus(cpus, 'ssh', sshArgs(fleet, host, command)), (error, stdout, stderr) =>
      error ? reject(new Error(`ssh ${host.entry} ${command}: ${stderr || error.message}`)) : resolve(stdout)
    )
  )
}
