// The command line's flags and --config file → the action's raw inputs, and the exit code 2 for
// everything a user can get wrong before a host is touched.
import { describe, expect, it } from '@jest/globals'
import { helpText, parseCommandLine, UsageError } from '../../src/cli/args.js'
import { INPUT_NAMES } from '../../src/inputs/catalog.js'
import { EXIT, runCli } from '../../src/cli/run-cli.js'
import { getSettings } from '../../src/inputs/get-settings.js'
import { BASE_INPUTS } from '../../test/fakes/fakes.js'

/** A file system of one folder: path → text. */
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    if (contents[path] === undefined) throw new Error(`ENOENT: no such file, open '${path}'`)
    return contents[path]
  }

// `--name=value`: a key's text starts with a dash, which parseArgs would otherwise take for a flag.
const flags = (inputs: Record<string, string>) => Object.entries(inputs).map(([name, value]) => `--${name}=${value}`)

describe('flags', () => {
  it("are every input of action.yml's catalog", () => {
    const { inputs } = parseCommandLine(
      INPUT_NAMES.map((name) => `--${name}=x`),
      files({})
    )
    expect(Object.keys(inputs)).toEqual([...INPUT_NAMES])
  })

  it('give each input its value; a flag given twice adds a line', () => {
    const { inputs } = parseCommandLine(
      ['--hosts', 'a@web1', '--hosts', 'a@web2', '--env', 'A=1', '--env', 'B=2', '--batch-size', '2'],
      files({})
    )
    expect(inputs).toEqual({ hosts: 'a@web1\na@web2', env: 'A=1\nB=2', 'batch-size': '2' })
  })

  it('--json and --help are the command’s own', () => {
    expect(parseCommandLine(['--json', '--hosts', 'h'], files({}))).toEqual({
      help: false,
      json: true,
      inputs: { hosts: 'h' }
    })
    expect(parseCommandLine(['-h'], files({})).help).toBe(true)
    const help = helpText()
    for (const name of INPUT_NAMES) expect(help).toContain(`  --${name} VALUE`)
    expect(help).toContain('--port VALUE (default 22)')
    expect(help).toContain('--hosts VALUE (required)\n      Hosts to deploy, in order:')
    expect(help).toContain('--private-key VALUE\n      Secret: ')
  })

  it.each([
    [['--hots', 'web1'], "Unknown option '--hots'"],
    [['--hosts'], "Option '--hosts <value>' argument missing"],
    [['web1'], "Unexpected argument 'web1'"],
    [['--json=yes'], "Option '--json' does not take an argument"]
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommandLine(argv, files({}))).toThrow(UsageError)
    expect(() => parseCommandLine(argv, files({}))).toThrow(message)
  })
})

describe('--config', () => {
  const config = [
    'hosts:',
    '  - deploy@web1',
    '  - deploy@web2:2222',
    'health-url: http://localhost:8080/health',
    'batch-size: 2',
    'dry-run: true',
    'env:',
    '  RELEASE: v2',
    '  WORKERS: 4',
    'health-body: from-config'
  ].join('\n')

  it('reads the same keys from YAML: lists as lines, mappings as KEY=value lines, numbers and booleans as text', () => {
    expect(parseCommandLine(['--config', 'rollout.yml'], files({ 'rollout.yml': config })).inputs).toEqual({
      hosts: 'deploy@web1\ndeploy@web2:2222',
      'health-url': 'http://localhost:8080/health',
      'batch-size': '2',
      'dry-run': 'true',
      env: 'RELEASE=v2\nWORKERS=4',
      'health-body': 'from-config'
    })
  })

  it('flags win over the file, wherever they stand', () => {
    const argv = ['--health-body', 'from-flag', '--config', 'rollout.yml', '--batch-size', '1']
    const { inputs } = parseCommandLine(argv, files({ 'rollout.yml': config }))
    expect(inputs).toMatchObject({
      'health-body': 'from-flag',
      'batch-size': '1',
      hosts: 'deploy@web1\ndeploy@web2:2222'
    })
  })

  it('an empty file gives no inputs', () => {
    expect(parseCommandLine(['--config', 'empty.yml'], files({ 'empty.yml': '' })).inputs).toEqual({})
  })

  it.each([
    ['hosts: [unclosed', /^--config c\.yml: not valid YAML: /],
    ['- a list\n- at the top', /^--config c\.yml: expected a mapping of input names to values$/],
    ['hots: web1', /^--config c\.yml: 'hots' is not an input \(see --help\)$/],
    ['hosts: a\nhosts: b', /^--config c\.yml: not valid YAML: .*[Mm]ap keys must be unique/],
    ['env:\n  A:\n    nested: 1', /^--config c\.yml: env: expected text, a list or a mapping$/]
  ])('%j is a usage error', (text, message) => {
    expect(() => parseCommandLine(['--config', 'c.yml'], files({ 'c.yml': text }))).toThrow(message)
  })

  it('a file that cannot be read is a usage error', () => {
    expect(() => parseCommandLine(['--config', 'missing.yml'], files({}))).toThrow(
      /^--config missing\.yml: cannot be read \(ENOENT/
    )
  })
})

describe('runCli before any connection', () => {
  async function run(argv: string[], contents: Record<string, string> = {}) {
    const out = { stdout: '', stderr: '' }
    const listening: string[] = []
    const code = await runCli({
      argv,
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
      readFile: files(contents),
      signals: { on: (signal) => listening.push(signal), off: () => undefined }
    })
    return { code, ...out, listening }
  }

  it('an unknown flag: exit 2, the reason and where to look, nothing started', async () => {
    const result = await run([...flags(BASE_INPUTS), '--hots', 'web1'])
    expect(result).toMatchObject({ code: EXIT.invalid, stdout: '', listening: [] })
    expect(result.stderr).toMatch(
      /^rolling-deploy: Unknown option '--hots'.*\nRun rolling-deploy --help for the flags\.\n$/
    )
  })

  it('an invalid value: exit 2 with the action’s own single error, nothing started', async () => {
    const given: Record<string, string> = { ...BASE_INPUTS, 'health-timeout': 'soon' }
    expect(() => getSettings((name) => given[name] ?? '')).toThrow(/^Invalid input: health-timeout 'soon'/)
    let expected = ''
    try {
      getSettings((name) => given[name] ?? '')
    } catch (error: unknown) {
      expected = (error as Error).message
    }
    expect(await run(flags(given))).toEqual({
      code: EXIT.invalid,
      stdout: '',
      stderr: `rolling-deploy: ${expected}\n`,
      listening: []
    })
  })

  it('a bad config file: exit 2', async () => {
    const result = await run(['--config', 'c.yml'], { 'c.yml': 'hosts: [' })
    expect(result.code).toBe(EXIT.invalid)
    expect(result.stderr).toMatch(/^rolling-deploy: --config c\.yml: not valid YAML/)
  })

  it('--help: exit 0, the flags on stdout', async () => {
    const result = await run(['--help'])
    expect(result.code).toBe(EXIT.success)
    expect(result.stdout).toBe(helpText())
    expect(result.stderr).toBe('')
  })
})

describe('the command line hides secrets in everything it prints', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' }
    return {
      out,
      io: {
        stdout: { write: (text: string) => (out.stdout += text) },
        stderr: { write: (text: string) => (out.stderr += text) },
        readFile: files({}),
        signals: { on: () => undefined, off: () => undefined }
      }
    }
  }

  it('the secret inputs and env values in the log, --json and errors (the summary: cli-fleet.test)', async () => {
    // Hosts named like the secrets (nothing resolves them): their names are in every line, table and error.
    const given = {
      ...BASE_INPUTS,
      hosts: 'deploy@pw-secret-host.invalid\ndeploy@env-secret-host.invalid',
      password: 'pw-secret-host',
      env: 'SHORT=v2\nAPI_TOKEN=env-secret-host',
      'connect-attempts': '1'
    }
    const { out, io: terminal } = io()
    const code = await runCli({ argv: [...flags(given), '--json'], ...terminal })
    expect(code).toBe(EXIT.failure)
    const printed = out.stdout + out.stderr
    expect(printed).not.toContain('pw-secret-host')
    expect(printed).not.toContain('env-secret-host')
    const report = JSON.parse(out.stdout) as { error: string }
    expect(report.error).toContain('- deploy@***.invalid: cannot connect to deploy@***.invalid')
    expect(out.stderr).toContain('error: Preflight failed for 2 host(s)')
    expect(out.stderr).toContain('- deploy@***.invalid: cannot connect') // the log
    // An invalid input's error too.
    const invalid = io()
    const bad = { ...given, 'health-timeout': 'pw-secret-host' }
    expect(await runCli({ argv: flags(bad), ...invalid.io })).toBe(EXIT.invalid)
    expect(invalid.out.stderr).toMatch(/^rolling-deploy: Invalid input: health-timeout '\*\*\*': expected a number/)
    expect(invalid.out.stderr).not.toContain('pw-secret-host')
  })
})
