// `rolling-deploy`, the command line (bundled as dist/cli.js): the action's engine and inputs from a
// terminal or another CI. See cli/run-cli.ts.
// First import on purpose: see esm-shims.ts.
import './esm-shims.js'
import { readFileSync } from 'node:fs'
import { runCli } from './cli/run-cli.js'

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  stdout: process.stdout,
  stderr: process.stderr,
  readFile: (path) => readFileSync(path, 'utf8'),
  signals: process
})
