// load-balancer: commands, the user's own: offline-command takes a host out and online-command puts
// it back (an API call, a registry entry...), run on the host; offline-probe and online-probe on
// the runner confirm what the LB shows, and online-probe alone says where a host is.
import type { LoadBalancer } from '../ports.js'
import { awaitChange, probeRotation, runOnHost, type HostSideDeps } from './await-change.js'

export function commandsBalancer(deps: HostSideDeps, commands: { offline: string; online: string }): LoadBalancer {
  const { online } = deps.settings.loadBalancer
  return {
    kind: 'commands',
    describe: (members) =>
      Promise.all(
        members.map(async (member) =>
          online.probe === undefined
            ? 'rotation not measured (no online-probe)'
            : `online-probe: ${await probeRotation(deps, member)}`
        )
      ),
    takeOut: (member, signal) => runOnHost(deps, member, commands.offline, signal),
    awaitOut: (member, signal) => awaitChange(deps, member, 'out', signal),
    putBack: (member, signal) => runOnHost(deps, member, commands.online, signal),
    awaitIn: (member, signal) => awaitChange(deps, member, 'in', signal),
    inRotation: (member) => probeRotation(deps, member),
    close: async () => undefined
  }
}
