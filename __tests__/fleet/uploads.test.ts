// Uploads through dist/ on the real fleet, whose sshd offers no SFTP subsystem: a directory (plain
// mode's upload-to, release mode's release directory) and a release .tar.gz arrive exactly as they
// were on the runner: dotfiles, modes, a symlink, an empty directory and a 20 MB file.
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic } from '../../test/fleet/observe.js'
import { releaseModeInputs } from '../../test/fleet/release-inputs.js'
import { HOST_VIEW, type SshHost } from '../../test/fleet/ssh-hosts.js'

let fleet: Fleet
let scratch: string
withFleet(2, 'rollout-uploads-', (started, dir) => ((fleet = started), (scratch = dir)), { sftp: false })

/** A release tree with what SFTP uploads lost, serving VERSION `version`. */
function releaseTree(version: string): string {
  const dir = join(scratch, `tree-${version}`)
  mkdirSync(join(dir, '.well-known'), { recursive: true })
  mkdirSync(join(dir, 'bin'))
  mkdirSync(join(dir, 'var/cache'), { recursive: true }) // stays empty
  writeFileSync(join(dir, 'VERSION'), `${version}\n`)
  writeFileSync(join(dir, '.env.example'), 'DB_HOST=\n')
  writeFileSync(join(dir, '.htaccess'), 'Require all denied\n')
  writeFileSync(join(dir, '.well-known/security.txt'), 'Contact: mailto:security@example.com\n')
  writeFileSync(join(dir, 'bin/run.sh'), '#!/bin/sh\necho run\n')
  chmodSync(join(dir, 'bin/run.sh'), 0o755)
  writeFileSync(join(dir, 'private.key'), 'key\n')
  chmodSync(join(dir, 'private.key'), 0o600)
  symlinkSync('bin/run.sh', join(dir, 'run'))
  writeFileSync(join(dir, 'big.bin'), randomBytes(20 * 1024 * 1024))
  return dir
}

/** Every entry under `dir`: its path, kind, mode and content (a link's target), sorted by path. */
function treeOf(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under))
    .sort()
    .flatMap((name) => {
      const path = join(under, name)
      const full = join(dir, path)
      const stat = lstatSync(full)
      const mode = (stat.mode & 0o7777).toString(8)
      if (stat.isSymbolicLink()) return [`${path} link ${readlinkSync(full)}`]
      if (stat.isDirectory()) return [`${path} dir ${mode}`, ...treeOf(dir, path)]
      return [`${path} file ${mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`]
    })
}

/** The login user's uid on the hosts: what every uploaded entry is owned by. */
const loginUid = () => Number(execFileSync('id', ['-u', fleet.ssh.user]).toString())

function expectSameTree(runner: string, host: SshHost, path: string) {
  const arrived = join(host.root, path)
  expect(treeOf(arrived)).toEqual(treeOf(runner))
  expect(lstatSync(join(arrived, 'bin/run.sh')).uid).toBe(loginUid())
}

;(asRoot ? describe : describe.skip)('uploads to hosts without SFTP', () => {
  it('the hosts really have no SFTP subsystem', () => {
    const [host] = fleet.hosts
    const sftp = spawnSync(
      'sftp',
      [
        ...['-b', '-', '-i', fleet.ssh.clientKeyPath, '-P', String(host.port)],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
        `${fleet.ssh.user}@${host.address}`
      ],
      { input: 'pwd\n', timeout: 10_000 }
    )
    expect(sftp.status).not.toBe(0)
    expect(sftp.stderr.toString()).toMatch(/subsystem request failed/)
  })

  it('plain mode: upload-to gets every name, mode, symlink and empty directory, under traffic', async () => {
    await fleet.reset()
    const tree = releaseTree('plain')
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ upload: tree, 'upload-to': `${HOST_VIEW}/uploaded` }))
    expect(observed.run.stderr).toBe('')
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    for (const host of fleet.hosts) expectSameTree(tree, host, 'uploaded')
  })

  it("an upload the host cannot unpack fails the host's upload step with the host's words, before it leaves rotation", async () => {
    await fleet.reset()
    const tree = releaseTree('nowhere')
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ upload: tree, 'upload-to': '/dev/null/app' }))
    expect(observed.run.code).toBe(1)
    expect(observed.maxOutOfRotation).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(JSON.parse(observed.run.outputs.report)[0]).toMatchObject({
      failedStep: 'upload',
      error: expect.stringMatching(
        /^the upload failed on the host \(exit code 1\): mkdir: .*\/dev\/null.*Not a directory$/
      ),
      rotation: 'in'
    })
  })

  it('release mode: a directory and a .tar.gz land in the release directory exactly, under traffic', async () => {
    await fleet.reset()
    const tree = releaseTree('u1')
    const first = await rollUnderTraffic(fleet, releaseModeInputs(fleet, scratch, 'u1', { upload: tree }))
    expect(first.run.code).toBe(0)
    expectNoUserVisibleErrors(first)
    const archived = releaseTree('u2')
    const archive = join(scratch, 'u2.tar.gz')
    execFileSync('tar', ['-czf', archive, '-C', archived, '.'])
    const second = await rollUnderTraffic(fleet, releaseModeInputs(fleet, scratch, 'u2', { upload: archive }))
    expect(second.run.code).toBe(0)
    expectNoUserVisibleErrors(second)
    for (const host of fleet.hosts) {
      expectSameTree(tree, host, 'releases/u1')
      expectSameTree(archived, host, 'releases/u2')
      expect(await fleet.version(host)).toBe('u2')
    }
  })

  it('refuses a release archive with a member outside the release directory, with no host out of rotation', async () => {
    await fleet.reset()
    const dir = releaseTree('u3')
    const archive = join(scratch, 'u3.tar.gz')
    // GNU tar keeps `../` in a member's name only when told to (-P).
    execFileSync('tar', ['-czf', archive, '-P', '--transform', 's,^\\./\\.htaccess$,../escaped,', '-C', dir, '.'])
    const observed = await rollUnderTraffic(fleet, releaseModeInputs(fleet, scratch, 'u3', { upload: archive }))
    expect(observed.run.code).toBe(1)
    expect(observed.run.stdout).toContain(`holds ../escaped, which would land outside ${HOST_VIEW}/releases/u3`)
    expect(observed.maxOutOfRotation).toBe(0)
    expectNoUserVisibleErrors(observed)
    for (const host of fleet.hosts) {
      expect(existsSync(join(host.root, 'releases/escaped'))).toBe(false)
      expect(existsSync(join(host.root, 'releases/u3'))).toBe(false)
      expect(await fleet.version(host)).toBe('v1')
    }
  })
})
