// The rollout benchmark's tables and what they say, as docs/benchmark.md and the console show them.
import { measuredOn } from './common.js'
import type { Judged, Results } from './rollout-judge.js'
import { HOSTS, PREPARE_S, THINK_MS } from './rollout-methods.js'

export function render(results: Results, targets: Results['targets']): string {
  const { fleet } = results
  return [
    `${measuredOn(results.date, results.machine)}. Medians of ${fleet.rounds} rounds, ${HOSTS} hosts, batch-size 1, live traffic from 8 keep-alive clients (${THINK_MS} ms between requests each).`,
    '',
    ...methodTable(results),
    '',
    `The seed's method takes ${results.seedOverProbes}× as long as the action with probes; fixed waits ${results.fixedOverProbes}×.`,
    '',
    `Of the action's time with probes: ${results.methods[1].startupAndPreflightMsMedian} ms from its start to the first host (Node start-up and preflight of ${HOSTS} hosts, under the traffic), ${results.methods[1].afterRolloutMsMedian} ms from the last host to its exit. A host's steps (median per host):`,
    '',
    ...stepTable(results.probesStepsMs),
    '',
    ...sideBySide(results),
    '',
    ...guardCost(results),
    '',
    '| target (issues 5 and 12) | latest | met |',
    '| --- | --: | :-: |',
    ...targets.map(({ target, latest, met }) => `| ${target} | ${latest} | ${met ? 'yes' : 'no'} |`),
    '',
    ...alsoMeasured(results)
  ].join('\n')
}

function methodTable(results: Results): string[] {
  return [
    '| method | total | / lower bound | overhead per host | errors (of requests) | max out of rotation |',
    '| --- | --: | --: | --: | --: | --: |',
    ...results.methods.map(
      (row) =>
        `| ${row.method} | ${row.totalMs} ms | ${row.overLowerBound} | ${row.overheadPerHostMs} ms | ${row.errors} (of ${row.requests}) | ${row.maxOutOfRotation} |`
    ),
    `| lower bound: LB detection (fall + rise) × inter + the app's stop and start-to-healthy | ${results.lowerBound.totalMs} ms | 1 | | | |`
  ]
}

function alsoMeasured(results: Results): string[] {
  const { machine: m, commandCost: c, preflight50HostsMs: p } = results
  return [
    '| also measured | median |',
    '| --- | --: |',
    `| CPU the fleet (4 × sshd, nginx, app), HAProxy and the traffic keep busy with no rollout running | ${results.busyCoresUnderTraffic} of ${m.cores} cores |`,
    `| cold start of dist/index.js to its first SSH connection | ${results.coldStartMs.median} ms |`,
    `| preflight of 50 sshd hosts (dry run; all 50 sshd share the runner's 2 cores) | ${p.median} ms; CPU meanwhile: the action ${p.actionCpuMsMedian} ms, the rest of the machine (the 50 sshd, mostly) ${p.restOfMachineCpuMsMedian} ms |`,
    `| peak RSS, 50 hosts, batch-size 10 | ${results.rollout50HostsBatch10.peakRssMb} MB |`,
    `| one small command (\`touch\`) on an open SSH connection, in the action's long-lived shell: idle / under the traffic / from 50 ms away | ${c.idle.shellMs} / ${c.underTraffic.shellMs} / ${c.rtt50Ms.shellMs} ms |`,
    `| the same on a channel of its own (the action's fallback): idle / under the traffic / from 50 ms away | ${c.idle.channelMs} / ${c.underTraffic.channelMs} / ${c.rtt50Ms.channelMs} ms |`
  ]
}

/** The same methods pinned (a runner apart from its hosts) and unpinned, and the release rows. */
function sideBySide(results: Results): string[] {
  const { pinned, releases } = results
  return [
    `Pinned: the fleet, HAProxy and the traffic on CPU 0, the action and the seed's loop on CPU 1 (taskset), as near as 2 cores come to a runner apart from its hosts; each beside the same unpinned, each against the lower bound measured the same way (pinned ${pinned.lowerBoundMs} ms, unpinned ${results.lowerBound.totalMs} ms).`,
    '',
    '| method | pinned | / lower bound | unpinned | / lower bound |',
    '| --- | --: | --: | --: | --: |',
    ...pinned.methods.map((row, i) => {
      const unpinned = results.methods[i]
      return `| ${row.method} | ${row.totalMs} ms | ${row.overLowerBound} | ${unpinned.totalMs} ms | ${unpinned.overLowerBound} |`
    }),
    '',
    `A release whose preparation takes ${PREPARE_S} s, with probes, ${HOSTS} hosts: time out of rotation per host (offline through online-wait, median) against the per-host lower bound (pinned ${releases.pinned.lowerBoundPerHostMs} ms, unpinned ${releases.unpinned.lowerBoundPerHostMs} ms).`,
    '',
    '| method | pinned: total | out of rotation per host | / lower bound | unpinned: total | out of rotation per host | / lower bound | errors |',
    '| --- | --: | --: | --: | --: | --: | --: | --: |',
    ...releases.pinned.methods.map((p, i) => {
      const u = releases.unpinned.methods[i]
      return `| ${p.method} | ${p.totalMs} ms | ${p.outOfRotationPerHostMs} ms | ${p.outOfRotationOverLowerBound} | ${u.totalMs} ms | ${u.outOfRotationPerHostMs} ms | ${u.outOfRotationOverLowerBound} | ${p.errors + u.errors} |`
    })
  ]
}

/** Issue 13: what the deploy lock and the capacity floor add, for 4 hosts under traffic and for 50. */
function guardCost(results: Results): string[] {
  const guards: Judged = results.guards
  const [bare] = guards.methods
  const fifty = results.guards50HostsBatch10
  return [
    `The guards' cost (unpinned): ${HOSTS} hosts with probes under the traffic, and 50 sshd hosts in batches of 10 (\`true\` for every command; the lock's group, taking 50 locks after preflight, took ${fifty.lockGroupMsMedian} ms).`,
    '',
    '| 4 hosts | total | / lower bound | added | errors |',
    '| --- | --: | --: | --: | --: |',
    ...guards.methods.map(
      (row) =>
        `| ${row.method} | ${row.totalMs} ms | ${row.overLowerBound} | ${row.totalMs - bare.totalMs} ms | ${row.errors} |`
    ),
    '',
    '| 50 hosts, batch-size 10 | total | added |',
    '| --- | --: | --: |',
    ...fifty.variants.map(
      (row) => `| ${row.name} | ${row.totalMs} ms | ${row.totalMs - fifty.variants[0].totalMs} ms |`
    )
  ]
}

function stepTable(p: Results['probesStepsMs']): string[] {
  const a = p.action
  const rows: [string, number, string][] = [
    ['offline (`rm -f` of the health file)', a.offline, ''],
    ['offline-wait, until the probe sees the host DOWN', a['offline-wait'], `fall × inter = ${p.lbOfflineMs} ms`],
    ['stop (`appctl.sh stop`)', a.stop, `the app's stop: ${p.appStopMs} ms`],
    ['deploy (a symlink)', a.deploy, ''],
    ['start + health', a.start + a.health, `the app's start to healthy: ${p.appStartToHealthyMs} ms`],
    ['online (`touch` of the health file)', a.online, ''],
    ['online-wait, until the probe sees the host UP', a['online-wait'], `rise × inter = ${p.lbOnlineMs} ms`]
  ]
  return [
    '| step | action | in the lower bound |',
    '| --- | --: | --- |',
    ...rows.map(([step, ms, bound]) => `| ${step} | ${ms} ms | ${bound} |`)
  ]
}
