// The harness that runs a rollout on fakes: scripted hosts (BASE_INPUTS' four unless the inputs name
// others), a runner for probes and analysis, a recording log, virtual time and a cancel button. Everything is handed back
// so a test can script hosts and the runner before it calls `run`, and read them after.
// fakeRollout drives runBatches (the rollout itself); fakeMain drives runWith (the whole action:
// settings, preflight, locks, the rollout, outputs and summary) over the same fakes.
import { runWith } from '../../src/main.js'
import { runBatches } from '../../src/rollout/batches.js'
import type { Settings } from '../../src/inputs/settings.js'
import {
  BASE_INPUTS,
  FakeClock,
  FakeRunner,
  RecordingLog,
  fakeConnector,
  fakeFleet,
  readerOf,
  settingsWith,
  withLb
} from './fakes.js'

/** How the runner answers a command (probes, analysis-command): its exit code. */
export type RunnerReply = ConstructorParameters<typeof FakeRunner>[1]

function fakesFor(settings: Settings, runnerReply?: RunnerReply) {
  const clock = new FakeClock()
  return {
    clock,
    hosts: fakeFleet(settings, clock),
    runner: new FakeRunner(clock, runnerReply),
    log: new RecordingLog(),
    controller: new AbortController()
  }
}

/** runBatches on fakes, with the settings BASE_INPUTS and `overrides` make. */
export function fakeRollout(overrides: Record<string, string> = {}, runnerReply?: RunnerReply) {
  const settings = settingsWith(overrides)
  const { clock, hosts, runner, log, controller } = fakesFor(settings, runnerReply)
  const run = () => runBatches(withLb({ settings, hosts, runner, clock, log, signal: controller.signal }))
  return { settings, clock, hosts, runner, log, controller, run }
}

/**
 * runWith on fakes: the inputs are BASE_INPUTS and `overrides` as text, so an invalid one reaches
 * runWith's own checks; the hosts in `unreachable` refuse the connection. runWith keeps time with
 * the system clock, so the waits are 1 ms unless `overrides` says otherwise.
 */
export function fakeMain(overrides: Record<string, string> = {}, unreachable: string[] = []) {
  const inputs = { ...BASE_INPUTS, 'offline-wait': '1ms', 'online-wait': '1ms', 'health-interval': '1ms', ...overrides }
  // The hosts as BASE_INPUTS names them: `overrides` may be invalid on purpose.
  const { hosts, runner, log, controller } = fakesFor(settingsWith(BASE_INPUTS))
  const connector = fakeConnector(hosts, unreachable)
  const outputs: Record<string, string> = {}
  const failures: string[] = []
  let summary: string | undefined
  const files = new Map<string, string>()
  const run = () =>
    runWith({
      readInput: readerOf(inputs),
      connector: () => connector,
      runner,
      log,
      writer: {
        setOutput: (name, value) => void (outputs[name] = value),
        writeSummary: async (markdown) => void (summary = markdown),
        saveReport: async (json) => {
          const path = `/tmp/fake-report-${files.size + 1}.json`
          files.set(path, json)
          return path
        }
      },
      signal: controller.signal,
      fail: (message) => void failures.push(message)
    })
  return { hosts, connector, runner, outputs, failures, log, controller, run, summary: () => summary, files }
}
