// load-balancer: health-file, the practice this action grew from: the LB's HTTP check reads a file
// on the host, so removing it takes the host out and touching it puts it back; the LB notices
// after its own fall/rise checks, which offline-probe/online-probe (or the fixed waits) stand for.
// Either side may be the user's command instead (offline-command, online-command).
import type { LbMember, LoadBalancer, Rotation } from '../ports.js'
import { fileExists, removeFile, touchFile } from '../ssh/remote-scripts.js'
import { awaitChange, MEASURE_MS, probeRotation, runOnHost, type HostSideDeps } from './await-change.js'
import { NEVER_ABORTED } from '../ports.js'

export function healthFileBalancer(deps: HostSideDeps, healthFile: string): LoadBalancer {
  const { offline, online } = deps.settings.loadBalancer
  const inRotation = async (member: LbMember): Promise<Rotation> => {
    // Rejoining by the user's command, the file no longer says where the host is: the probe does.
    if (online.command !== undefined) return probeRotation(deps, member)
    const { code } = await member.host.exec(fileExists(healthFile), {
      env: [],
      timeoutMs: MEASURE_MS,
      signal: NEVER_ABORTED,
      onLine: () => undefined
    })
    return code === 0 ? 'in' : code === 1 ? 'out' : 'unknown'
  }
  return {
    kind: 'health-file',
    describe: (members) =>
      Promise.all(
        members.map(async (member) => {
          const rotation = await inRotation(member)
          return rotation === 'unknown'
            ? `rotation unknown`
            : `${healthFile}: ${rotation === 'in' ? 'present (in rotation)' : 'absent (out of rotation)'}`
        })
      ),
    takeOut: (member, signal) => runOnHost(deps, member, offline.command ?? removeFile(healthFile), signal),
    awaitOut: (member, signal) => awaitChange(deps, member, 'out', signal),
    putBack: (member, signal) => runOnHost(deps, member, online.command ?? touchFile(healthFile), signal),
    awaitIn: (member, signal) => awaitChange(deps, member, 'in', signal),
    inRotation,
    close: async () => undefined
  }
}
