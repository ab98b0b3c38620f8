// `npm run demo`: a 3-host fleet behind HAProxy rolled from v1 to v2 by the bundled action while
// 8 clients keep requesting; prints the job summary, the traffic tally and the most hosts out.
import { startFleet } from './fleet.js'
import { summaryForTerminal } from '../../src/cli/summary-text.js'
import { rollUnderTraffic } from './observe.js'

const dim = (text: string) => `\x1b[2m${text}\x1b[0m`
const bold = (text: string) => `\x1b[1m${text}\x1b[0m`

async function main(): Promise<number> {
  console.log(bold('Starting a local fleet: 3 hosts (sshd + nginx + app v1 each, on 127.0.0.x) behind HAProxy…'))
  const fleet = await startFleet(3)
  try {
    for (const host of fleet.hosts) console.log(`  ${host.name}: ssh ${host.entry}, app ${await fleet.version(host)}`)
    console.log(
      `  HAProxy on 127.0.0.1:${fleet.lb.port}, health check GET /nginx-status.html every 100 ms (fall 2, rise 2)`
    )
    console.log(bold('\nRolling v1 → v2 with dist/index.js under live traffic (8 keep-alive clients)…\n'))
    let partial = ''
    const { run, tally, ...rotation } = await rollUnderTraffic(fleet, fleet.inputs(), {
      onStdout: (chunk) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop() ?? ''
        // The runner hides ::add-mask:: commands; so does the demo.
        for (const line of lines) if (!line.startsWith('::add-mask::')) console.log(dim(line))
      }
    })

    console.log(bold('\n──── Job summary, as GitHub would show it ────\n'))
    console.log(summaryForTerminal(run.summary))
    console.log(bold('\n──── What the users saw ────\n'))
    const versions = Object.entries(tally.byVersion)
      .map(([version, n]) => `${n} × ${version}`)
      .join(', ')
    console.log(`${tally.requests} requests, ${tally.errors} errors (${versions})`)
    if (tally.errors > 0)
      console.log(
        `  by status: ${JSON.stringify(tally.byStatus)}, connection errors: ${JSON.stringify(tally.connectionErrors)}`
      )
    console.log(
      `at most ${rotation.maxOutOfRotation} host(s) out of rotation at once (${rotation.samples} samples of HAProxy's states)`
    )
    const finals = await Promise.all(fleet.hosts.map(async (host) => `${host.name} ${await fleet.version(host)}`))
    console.log(`hosts now: ${finals.join(', ')}; action exit code ${run.code}, result ${run.outputs.result}`)
    return run.code === 0 && tally.errors === 0 ? 0 : 1
  } finally {
    await fleet.close()
    console.log(dim('\nFleet stopped and removed.'))
  }
}

process.exitCode = await main()
