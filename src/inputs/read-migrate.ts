// The run-once step's inputs: migrate-command, the host it runs on, and whether a passed one runs again.
import type { InputReader } from './input-reader.js'
import { InputError, parseHostTarget } from './parse.js'
import type { MigrateSettings, Target } from './settings.js'

/** The `hosts` entry `value` names: as written there, or the same host and port (and user, if it names one). */
function findHost(value: string, hosts: readonly Target[], port: number): string {
  const wanted = parseHostTarget(value, port)
  const found = hosts.find(
    (target) =>
      target.entry === value ||
      (target.host.toLowerCase() === wanted.host.toLowerCase() &&
        target.port === wanted.port &&
        (wanted.user === undefined || wanted.user === target.user))
  )
  if (found === undefined)
    throw new InputError(`expected one of hosts: ${hosts.map((target) => target.entry).join(', ') || '(none)'}`)
  return found.entry
}

export function readMigrate(input: InputReader, hosts: readonly Target[], port: number): MigrateSettings | undefined {
  const always = input.defaulted('migrate', (value) => {
    if (value !== 'once' && value !== 'always') throw new InputError('expected once or always')
    return value === 'always'
  })
  const command = input.raw('migrate-command')
  if (command === undefined) {
    if (input.raw('migrate-host') !== undefined)
      input.problem('migrate-host', input.raw('migrate-host'), 'needs migrate-command: it names where that runs')
    return undefined
  }
  const host = input.parse('migrate-host', (value) => findHost(value, hosts, port))
  return { command, host: host ?? hosts[0]?.entry ?? '', always }
}
