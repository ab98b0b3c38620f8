// `rolling-deploy`: the action's engine (main.ts's runWith) with the terminal's adapters: inputs
// from flags and a config file, a plain log, a live view, the summary as text, and an exit code
// for the caller (0 success, 1 failure, 2 invalid input, 130 cancelled).
import { stripVTControlCharacters } from 'node:util'
import { cancelOnSignals, runWith, type SignalSource } from '../main.js'
import { systemClock } from '../ports.js'
import { getSettings, SettingsError, type ReadInput } from '../inputs/get-settings.js'
import { localRunner } from '../runner/local-runner.js'
import { saveReportFile } from '../runner/report-file.js'
import { createSshConnector } from '../ssh/connector.js'
import { errorMessage } from '../errors.js'
import { helpText, parseCommandLine, UsageError, type CommandLine } from './args.js'
import { ProgressView, type Terminal } from './progress-view.js'
import { summaryForTerminal } from './summary-text.js'
import { terminalLog } from './terminal-log.js'
import { hiddenTexts, masker } from '../inputs/secrets.js'

export const EXIT = { success: 0, failure: 1, invalid: 2, cancelled: 130 } as const

export interface CliIo {
  readonly argv: readonly string[]
  readonly stdout: Terminal
  readonly stderr: Terminal
  readonly readFile: (path: string) => string
  readonly signals: SignalSource
}

export async function runCli(io: CliIo): Promise<number> {
  let commandLine: CommandLine
  try {
    commandLine = parseCommandLine(io.argv, io.readFile)
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error
    io.stderr.write(`rolling-deploy: ${error.message}\nRun rolling-deploy --help for the flags.\n`)
    return EXIT.invalid
  }
  if (commandLine.help) {
    io.stdout.write(helpText())
    return EXIT.success
  }
  const readInput: ReadInput = (name) => commandLine.inputs[name] ?? ''
  // As the runner does for the action: the secret inputs, and long env values.
  const secrets = hiddenTexts(readInput)
  // The same validation as the action, once before anything starts, so invalid input is its own
  // exit code; runWith then reads the same inputs again and finds them valid.
  try {
    getSettings(readInput)
  } catch (error: unknown) {
    if (!(error instanceof SettingsError)) throw error
    io.stderr.write(`rolling-deploy: ${masker(secrets)(error.message)}\n`)
    return EXIT.invalid
  }
  return roll(io, readInput, secrets, commandLine.json)
}

/** The run itself, with its view; how it ended as an exit code. */
async function roll(io: CliIo, readInput: ReadInput, secrets: readonly string[], json: boolean): Promise<number> {
  // People's output goes where the JSON is not.
  const human = json ? io.stderr : io.stdout
  const view = new ProgressView(human)
  const log = terminalLog((text) => view.print(text), secrets, view.live)
  const mask = masker(secrets)
  const outputs: Record<string, string> = {}
  let summary: string | undefined
  let failure: string | undefined
  const controller = new AbortController()
  // Ctrl-C is a cancelled workflow: start nothing new, leave the hosts in flight safe, report.
  const stopListening = cancelOnSignals(io.signals, log, controller)
  view.start()
  try {
    await runWith({
      readInput,
      connector: (settings) => createSshConnector(settings.ssh, systemClock, log),
      runner: localRunner,
      log,
      writer: {
        setOutput: (name, value) => (outputs[name] = value),
        writeSummary: async (markdown) => void (summary = markdown),
        saveReport: (json) => saveReportFile(json)
      },
      signal: controller.signal,
      fail: (message) => (failure = message),
      progress: view.observe
    })
  } catch (error: unknown) {
    failure = errorMessage(error)
  } finally {
    view.stop()
    stopListening()
  }
  if (summary !== undefined) {
    const text = mask(summaryForTerminal(summary))
    human.write(`\n${view.live ? text : stripVTControlCharacters(text)}\n`)
  }
  if (outputs['report-file']) log.info(`Every host's report: ${outputs['report-file']}`)
  if (failure !== undefined) log.error(failure)
  if (json) io.stdout.write(`${mask(JSON.stringify(jsonReport(outputs, failure), null, 2))}\n`)
  const result = outputs.result
  if (result === 'success' && failure === undefined) return EXIT.success
  return result === 'cancelled' ? EXIT.cancelled : EXIT.failure
}

/** The action's outputs as one JSON document, the JSON-valued ones parsed. */
export function jsonReport(outputs: Readonly<Record<string, string>>, error: string | undefined): object {
  const parsed = (name: string) => (outputs[name] === undefined ? undefined : JSON.parse(outputs[name]))
  return {
    result: outputs.result ?? 'failure',
    ...(error !== undefined && { error }),
    'succeeded-hosts': parsed('succeeded-hosts') ?? [],
    'failed-hosts': parsed('failed-hosts') ?? [],
    'skipped-hosts': parsed('skipped-hosts') ?? [],
    ...(outputs['duration-ms'] !== undefined && { 'duration-ms': Number(outputs['duration-ms']) }),
    ...(outputs.release !== undefined && { release: outputs.release }),
    report: parsed('report') ?? [],
    ...(outputs['report-file'] && { 'report-file': outputs['report-file'] }),
    bakes: parsed('bakes') ?? []
  }
}
