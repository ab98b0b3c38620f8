// Lays out the app on each test host: releases v1 and v2 (and any broken one), app.mjs,
// appctl.sh and app.env, then starts v1 and puts the host online, as before a release.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { sshRun, type SshFleet, type SshHost } from './ssh-hosts.js'

const HERE = resolve('test/fleet')

export interface Release {
  readonly name: string
  /** Extra app flags: `--never-healthy`, `--healthy-after-ms 3000`. */
  readonly flags?: string
}

export function installApp(fleet: SshFleet, host: SshHost, appPort: number, releases: readonly Release[]): void {
  mkdirSync(join(host.root, 'status'), { recursive: true })
  for (const release of releases) {
    const dir = join(host.root, 'releases', release.name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'VERSION'), `${release.name}\n`)
    rmSync(join(dir, 'APP_FLAGS'), { force: true })
    if (release.flags) writeFileSync(join(dir, 'APP_FLAGS'), release.flags)
  }
  // A fresh host: no release history, digests or audit lines from an earlier test.
  for (const record of ['.history', '.digests', 'deploy.log'])
    rmSync(join(host.root, record), { recursive: true, force: true })
  copyFileSync(join(HERE, 'app.mjs'), join(host.root, 'app.mjs'))
  copyFileSync(join(HERE, 'appctl.sh'), join(host.root, 'appctl.sh'))
  writeFileSync(join(host.root, 'app.env'), `NODE=${process.execPath}\nAPP_PORT=${appPort}\n`)
  execFileSync('chown', ['-R', fleet.user, host.root])
  // A fresh host: a deploy lock an earlier, failed run could not give back (its sshd was killed) is gone too.
  sshRun(
    fleet,
    host,
    'rm -rf "$HOME/.rolling-deploy.lock" && sh "$HOST_ROOT/appctl.sh" stop && sh "$HOST_ROOT/appctl.sh" deploy v1 && sh "$HOST_ROOT/appctl.sh" start && sh "$HOST_ROOT/appctl.sh" online'
  )
  writeFileSync(join(host.root, 'steps.log'), '') // the release under test starts from here
  execFileSync('chown', [fleet.user, join(host.root, 'steps.log')])
}

/** The steps appctl.sh recorded on a host since installApp. */
export function stepsOn(host: SshHost): string[] {
  const file = join(host.root, 'steps.log')
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
}

export function inRotation(host: Pick<SshHost, 'root'>): boolean {
  return existsSync(join(host.root, 'status', 'nginx-status.html'))
}

/** What the host's app answers now, asked directly (loopback); undefined if nothing answers. */
export async function versionOn(host: Pick<SshHost, 'address'>, appPort: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://${host.address}:${appPort}/`, { signal: AbortSignal.timeout(2000) })
    return /version=(\S+)/.exec(await response.text())?.[1]
  } catch {
    return undefined
  }
}

export async function stopApps(fleet: SshFleet): Promise<void> {
  for (const host of fleet.hosts) {
    const pidFile = join(host.root, 'app.pid')
    if (!existsSync(pidFile)) continue
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
