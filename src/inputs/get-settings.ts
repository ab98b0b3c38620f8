// Reads every input once, validates it and returns one immutable Settings (settings.ts). All
// problems are collected so a user fixes them in one round; nothing here connects anywhere, and
// nothing here writes a remote command (see ssh/remote-scripts.ts).
import { InputReader, type ReadInput } from './input-reader.js'
import { parseBatchSize, parseBoolean, parseDuration, parseEnv, parseInteger } from './parse.js'
import { batchSizes } from '../rollout/placement.js'
import { checkConnectionBound, readSsh, readTargets } from './read-connection.js'
import { readBake, readCapacity, readLock } from './read-guards.js'
import { readRelease } from './read-release.js'
import { readMigrate } from './read-migrate.js'
import { readCommands, readHealth, readLoadBalancer, readUpload, warnAboutWaits } from './read-rollout.js'
import type { Settings } from './settings.js'
import { hiddenTexts } from './secrets.js'

// What getSettings takes, and what it throws with every problem found.
export { SettingsError, type ReadInput } from './input-reader.js'

export function getSettings(readInput: ReadInput): Settings {
  const input = new InputReader(readInput)
  const warnings: string[] = []
  const port = input.defaulted('port', (value) => parseInteger(value, 1, 65535))
  const hosts = readTargets(input, 'hosts', port)
  const dryRun = input.defaulted('dry-run', parseBoolean)
  const env = input.parse('env', parseEnv) ?? []
  const loadBalancer = readLoadBalancer(input, dryRun, hosts, port)
  const health = readHealth(input, env)
  warnings.push(...warnAboutWaits(loadBalancer, health))
  const release = readRelease(input)
  const lock = readLock(input, release?.dir)
  const batches = {
    size: input.defaulted('batch-size', parseBatchSize),
    pauseMs: input.defaulted('batch-pause', parseDuration),
    maxFailedHosts: input.defaulted('max-failed-hosts', (value) => parseInteger(value, 0, 100_000))
  }
  const sizes = batchSizes(hosts.length, batches.size)
  // LB hosts' keys are checked as the hosts' are.
  const ssh = readSsh(input, port, [...hosts, ...(loadBalancer.haproxy?.hosts ?? [])], warnings)
  checkConnectionBound(input, ssh, hosts.length, Math.max(0, ...sizes))
  return input.finish({
    hosts,
    ssh,
    env,
    loadBalancer,
    upload: readUpload(input, release !== undefined),
    release,
    migrate: readMigrate(input, hosts, port),
    lock,
    capacity: readCapacity(input, hosts.length, sizes, loadBalancer),
    bake: readBake(input, batches.size, sizes, warnings),
    commands: readCommands(input),
    health,
    batches,
    dryRun,
    hidden: hiddenTexts(readInput),
    warnings
  })
}
