// load-balancer: commands, the user's own: offline-command takes a host out and online-command puts
// it back (an API call, a registry entry...), run on the host; offline-probe and online-probe on
// the runner confirm what the LB shows, and online-probe alone says where a host is.
import type { LoadBalancer } from '../ports.js'
import { awaitChange, describeRotation, probeRotation, runOnHost, type HostSideDeps } from './host-side.js'

export function commandsBalancer(deps: HostSideDeps): LoadBalancer {
  const { offline, online } = deps.settings.loadBalancer
  return {
    kind: 'commands',
    describe: (members) =>
      Promise.all(
        members.map(async (member) =>
          online.probe === undefined
            ? 'rotation not measured (no online-probe)'
            : describeRotation(await probeRotation(deps, member))
        )
      ),
    takeOut: (member, signal) => runOnHost(deps, member, offline.command ?? ':', signal),
    awaitOut: (member, signal) => awaitChange(deps, member, 'out', signal),
    putBack: (member, signal) => runOnHost(deps, member, online.command ?? ':', signal),
    awaitIn: (member, signal) => awaitChange(deps, member, 'in', signal),
    inRotation: (member) => probeRotation(deps, member),
    close: async () => undefined
  }
}
