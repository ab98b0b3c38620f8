// What the action's own parts cost, apart from a whole rollout: one small command on an open
// connection (the long-lived shell against a channel per command, idle, under the traffic and from
// a runner 50 ms away), and the cold start of dist/index.js.
import { spawn } from 'node:child_process'
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net'
import { readerOf, RecordingLog, TEST_KEY } from '../test/fakes/fakes.js'
import { getSettings } from '../src/inputs/get-settings.js'
import { systemClock } from '../src/ports.js'
import { createSshConnector } from '../src/ssh/connector.js'
import type { Fleet } from '../test/fleet/fleet.js'
import { observeWhile } from '../test/fleet/observe.js'
import { DIST_ENTRY, inputVariables } from '../test/run-action.js'
import { median, round } from './common.js'
import { THINK_MS } from './rollout-methods.js'

/** Listens on a free loopback port; resolves to it. */
const listenLocally = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
  )

/** A TCP relay to `to` that holds every chunk `delayMs` each way: a runner `2 × delayMs` away from its host. */
async function delayingRelay(to: { address: string; port: number }, delayMs: number) {
  const server = createServer((client) => {
    client.setNoDelay(true)
    const upstream = tcpConnect({ host: to.address, port: to.port, noDelay: true })
    const relay = (from: Socket, into: Socket) => {
      from.on('data', (chunk) => setTimeout(() => into.write(chunk), delayMs))
      from.on('end', () => setTimeout(() => into.end(), delayMs))
      from.on('error', () => into.destroy())
    }
    relay(client, upstream)
    relay(upstream, client)
  })
  return { port: await listenLocally(server), close: () => server.close() }
}

/** A connection to the fleet's first host, with or without the long-lived shell, maybe `through` a relay's port. */
async function connectFirst(fleet: Fleet, shell: boolean, signal: AbortSignal, through?: number) {
  const [host] = fleet.hosts
  const inputs: Record<string, string> = fleet.inputs()
  if (through !== undefined) {
    inputs.hosts = `${fleet.ssh.user}@127.0.0.1:${through}`
    inputs['known-hosts'] = `[127.0.0.1]:${through} ${host.hostPublicKey}`
  }
  const settings = getSettings(readerOf(inputs))
  const remote = await createSshConnector(settings.ssh, systemClock, new RecordingLog(), {
    longLivedShell: shell
  }).connect(settings.hosts[0], signal)
  return { remote, env: settings.env }
}

/** `count` `touch`es each way, alternating on the same host: the median of each. */
async function sampleCommands(fleet: Fleet, count: number, through?: number) {
  const signal = new AbortController().signal
  const ways = {
    shell: await connectFirst(fleet, true, signal, through),
    channel: await connectFirst(fleet, false, signal, through)
  }
  const samples = { shell: [] as number[], channel: [] as number[] }
  try {
    for (let i = 0; i < count; i++) {
      for (const way of ['shell', 'channel'] as const) {
        const { remote, env } = ways[way]
        const started = performance.now()
        const command = 'touch "$HOST_ROOT/bench-touch"'
        const result = await remote.exec(command, { env, timeoutMs: 10_000, signal, onLine: () => undefined })
        samples[way].push(performance.now() - started)
        if (result.code !== 0) throw new Error(`the command failed (${way}): ${result.code}`)
      }
    }
  } finally {
    await Promise.all(Object.values(ways).map(({ remote }) => remote.close()))
  }
  return { shellMs: round(median(samples.shell)), channelMs: round(median(samples.channel)) }
}

/**
 * What one small command costs on an open connection, the action's way (one long-lived shell per
 * host) and with a channel per command (sshd opens a session and forks a login shell for each),
 * alternating on the same host: idle, under the traffic, and from a runner 50 ms away.
 */
export async function commandCost(fleet: Fleet) {
  const relay = await delayingRelay(fleet.hosts[0], 25)
  try {
    return {
      idle: await sampleCommands(fleet, 40),
      underTraffic: (await observeWhile(fleet, () => sampleCommands(fleet, 40), THINK_MS)).result,
      rtt50Ms: await sampleCommands(fleet, 15, relay.port)
    }
  } finally {
    relay.close()
  }
}

export type CommandCost = Awaited<ReturnType<typeof commandCost>>

/** Spawn of dist/index.js to the first TCP connection it opens (to a listener that counts). */
export async function coldStartMs(): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < 10; i++) {
    const server = createServer((socket) => socket.destroy())
    const port = await listenLocally(server)
    const inputs = {
      hosts: `deploy@127.0.0.1:${port}`,
      'private-key': TEST_KEY,
      'strict-host-key-checking': 'false',
      'health-file': '/srv/status/nginx-status.html',
      'start-command': 'true',
      'health-command': 'true',
      'connect-attempts': '1'
    }
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...inputVariables(inputs) }
    const started = performance.now()
    const child = spawn(process.execPath, [DIST_ENTRY], { env, stdio: 'ignore' })
    const connectedAt = await new Promise<number>((resolve) =>
      server.once('connection', () => resolve(performance.now()))
    )
    samples.push(connectedAt - started)
    child.kill('SIGKILL')
    server.close()
  }
  return samples
}
