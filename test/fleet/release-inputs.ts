// Release-mode inputs for the local fleet: each release is a directory uploaded from the runner,
// whose VERSION the app serves and whose APP_FLAGS (if any) it starts with.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { APPCTL, type Fleet } from './fleet.js'
import { HOST_VIEW } from './ssh-hosts.js'

/** A release to upload, in `scratch`: VERSION `version`, and APP_FLAGS when given (`--error-every 5`). */
export function releaseArtifact(scratch: string, version: string, appFlags?: string): string {
  const dir = join(scratch, `artifact-${version}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'VERSION'), `${version}\n`)
  rmSync(join(dir, 'APP_FLAGS'), { force: true })
  if (appFlags !== undefined) writeFileSync(join(dir, 'APP_FLAGS'), appFlags)
  return dir
}

/**
 * Release-mode inputs: release `id` (uploaded from `scratch`) with release-dir the host's own root;
 * a host with a `break-<id>` file refuses to start release <id>.
 */
export function releaseModeInputs(
  fleet: Fleet,
  scratch: string,
  id: string,
  overrides: Record<string, string> = {},
  appFlags?: string
): Record<string, string> {
  const { 'deploy-command': _deploy, env: _env, ...inputs } = fleet.inputs()
  return {
    ...inputs,
    'release-dir': HOST_VIEW,
    'release-id': id,
    upload: releaseArtifact(scratch, id, appFlags),
    'start-command': `r=$(basename "$(readlink ${HOST_VIEW}/current)"); if [ -e "$HOST_ROOT/break-$r" ]; then echo "release $r refused here"; exit 1; fi; ${APPCTL} start`,
    'health-body': `version=${id}`,
    ...overrides
  }
}
