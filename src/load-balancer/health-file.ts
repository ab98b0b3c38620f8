// load-balancer: health-file, the practice this action grew from: the LB's HTTP check reads a file
// on the host, so removing it takes the host out and touching it puts it back; the LB notices
// after its own fall/rise checks, which offline-probe/online-probe (or the fixed waits) stand for.
// Either side may be the user's command instead (offline-command, online-command).
import { NEVER_ABORTED, type LbMember, type LoadBalancer, type Rotation } from '../ports.js'
import { fileExists } from '../ssh/remote-scripts.js'
import {
  awaitChange,
  describeRotation,
  hostSideCommand,
  MEASURE_MS,
  probeRotation,
  runOnHost,
  type HostSideDeps
} from './host-side.js'

export function healthFileBalancer(deps: HostSideDeps, healthFile: string): LoadBalancer {
  const { online } = deps.settings.loadBalancer
  const inRotation = async (member: LbMember): Promise<Rotation> => {
    // The probe is the LB's own view; the file only says where the host is heading, and says
    // nothing once the user's online-command is how the host rejoins.
    if (online.probe !== undefined || online.command !== undefined) return probeRotation(deps, member)
    const { code } = await member.host.exec(fileExists(healthFile), {
      env: [],
      timeoutMs: MEASURE_MS,
      signal: NEVER_ABORTED,
      onLine: () => undefined,
      quick: true
    })
    return code === 0 ? 'in' : code === 1 ? 'out' : 'unknown'
  }
  const command = (rotation: 'in' | 'out') => hostSideCommand(deps.settings, rotation) ?? ':'
  return {
    kind: 'health-file',
    readsOnHost: online.probe === undefined && online.command === undefined,
    describe: (members) => Promise.all(members.map(async (member) => describeRotation(await inRotation(member)))),
    takeOut: (member, signal) => runOnHost(deps, member, command('out'), signal),
    awaitOut: (member, signal) => awaitChange(deps, member, 'out', signal),
    putBack: (member, signal) => runOnHost(deps, member, command('in'), signal),
    awaitIn: (member, signal) => awaitChange(deps, member, 'in', signal),
    inRotation,
    close: async () => undefined
  }
}
