// npm run validate: every file of the repository passes, and each kind of mistake it is there for
// is caught (a misspelled input, a bad uses:, a misspelled output, an expression error, action.yml
// off node24), in a workflow and in an example of the README or of docs/, with the file and line it is on.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import {
  actionInterface,
  checkActionMetadata,
  checkDependabot,
  checkUsesOfAction,
  exampleFiles,
  lintWorkflow,
  validateRepository
} from '../../scripts/validate-workflows.js'

const actionYml = readFileSync('action.yml', 'utf8')
const action = actionInterface(actionYml)

/** A workflow with one job whose steps are `steps` (indented as a job's steps). */
const workflow = (steps: string) => `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
${steps}`

const ROLL = `      - id: roll
        uses: ./
        with:
          hosts: deploy@web-1
          health-file: /srv/status/nginx-status.html
`

const temporary: string[] = []
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** A copy of the repository's action.yml, Markdown and workflows, with `change` applied. */
function repository(change: (root: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'validate-'))
  temporary.push(root)
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true })
  mkdirSync(join(root, 'dist'))
  mkdirSync(join(root, 'docs'))
  writeFileSync(join(root, 'dist', 'index.js'), '')
  const docs = readdirSync('docs').map((name) => join('docs', name))
  for (const file of [
    'action.yml',
    'README.md',
    'CONTRIBUTING.md',
    '.github/workflows/ci.yml',
    '.github/dependabot.yml',
    ...docs
  ])
    copyFileSync(file, join(root, file))
  change(root)
  return root
}

describe('the files of this repository', () => {
  it('all pass: action.yml, every workflow, dependabot.yml and every example of the README and docs/', async () => {
    const { problems, workflows, examples } = await validateRepository('.')
    expect(problems).toEqual([])
    expect(workflows.sort()).toEqual(['ci.yml', 'release.yml'])
    expect(examples.map(({ file }) => file)).toEqual(exampleFiles('.'))
    const count = (file: string) => examples.find((example) => example.file === file)?.count
    // The quick start and one complete workflow per use; the load balancers' input fragments.
    expect(count('README.md')).toBeGreaterThanOrEqual(5)
    expect(count('docs/load-balancers.md')).toBeGreaterThanOrEqual(4)
  })
})

describe('a misspelled input', () => {
  it('of this action, in a workflow step using ./ or its published name, is named with its line', () => {
    const text = workflow(ROLL.replace('health-file', 'health-fle'))
    expect(checkUsesOfAction(text, 'ci.yml', action, '.')).toEqual([
      {
        file: 'ci.yml',
        line: 10,
        message: 'input "health-fle" is not defined in action "./": see action.yml\'s inputs'
      }
    ])
    const published = workflow(ROLL.replace('uses: ./', 'uses: your-org/rolling-deploy-action@v1'))
    expect(checkUsesOfAction(published.replace('hosts:', 'host:'), 'x.yml', action, '.').map((p) => p.message)).toEqual(
      [
        'input "host" is not defined in action "your-org/rolling-deploy-action@v1": see action.yml\'s inputs',
        'required input "hosts" of "your-org/rolling-deploy-action@v1" is missing'
      ]
    )
  })

  it('in an example of the README or docs/, whole or a fragment of inputs, is reported at its line in its file, and fails the command', async () => {
    const edit = (dir: string, file: string, from: string, to: string) =>
      writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replace(from, to))
    const root = repository((dir) => {
      edit(
        dir,
        'README.md',
        '          known-hosts: ${{ vars.WEB_KNOWN_HOSTS }}\n',
        '          known-host: ${{ vars.WEB_KNOWN_HOSTS }}\n'
      )
      edit(dir, 'docs/load-balancers.md', 'offline-probe: echo', 'ofline-probe: echo')
    })
    const lineOf = (file: string, line: number) =>
      readFileSync(join(root, file), 'utf8').split('\n')[line - 1].trim().split(':')[0]
    const { problems } = await validateRepository(root)
    expect(problems.map((problem) => [problem.file, lineOf(problem.file, problem.line), problem.message])).toEqual([
      [
        'README.md',
        'known-host',
        'input "known-host" is not defined in action "your-org/rolling-deploy-action@v1": see action.yml\'s inputs'
      ],
      [
        'docs/load-balancers.md',
        'ofline-probe',
        'input "ofline-probe" is not defined in action "./": see action.yml\'s inputs'
      ]
    ])
    const command = spawnSync('node_modules/.bin/tsx', ['scripts/validate-workflows.ts', root], { encoding: 'utf8' })
    expect(command.status).toBe(1)
    expect(command.stdout).toMatch(/^docs\/load-balancers\.md:\d+: input "ofline-probe" is not defined/m)
    expect(command.stdout).toMatch(/^examples: README\.md 5, CONTRIBUTING\.md 0, docs\/benchmark\.md 0, /m)
    expect(command.stdout).toMatch(/2 problem\(s\)/)
  })

  it('of another action actionlint knows (actions/checkout@v4) is caught too', async () => {
    const text = workflow('      - uses: actions/checkout@v4\n        with:\n          fetch-depht: 0\n')
    expect(await lintWorkflow(text, 'ci.yml')).toEqual([
      {
        file: 'ci.yml',
        line: 8,
        message: expect.stringMatching(/^input "fetch-depht" is not defined in action "actions\/checkout@v4"/)
      }
    ])
  })
})

describe('a bad uses:', () => {
  it('without a ref, with an empty owner, or both uses: and run: is caught by actionlint', async () => {
    const text = workflow(
      '      - uses: actions/checkout\n      - uses: /rolling-deploy-action@v1\n      - uses: ./\n        run: echo\n'
    )
    const found = (await lintWorkflow(text, 'ci.yml')).map((problem) => [problem.line, problem.message])
    expect(found).toEqual([
      [6, expect.stringContaining('specifying action "actions/checkout" in invalid format because ref is missing')],
      [7, expect.stringContaining('in invalid format')],
      [9, expect.stringContaining('contains "run" key')]
    ])
  })

  it('to a local action that is not there is caught', () => {
    const text = workflow('      - uses: ./actions/deploy\n')
    expect(checkUsesOfAction(text, 'ci.yml', action, '.')).toEqual([
      { file: 'ci.yml', line: 6, message: 'uses: "./actions/deploy": no action.yml there' }
    ])
  })
})

describe('outputs and expressions', () => {
  it("a misspelled output of this action's step is caught; declared ones (dotted or quoted) pass", () => {
    const text = workflow(
      ROLL +
        "      - run: echo '${{ steps.roll.outputs.failed-host }}' '${{ steps.roll.outputs.report }}'\n" +
        '      - run: echo "${{ steps.roll.outputs[\'succeeded-hosts\'] }}"\n'
    )
    expect(checkUsesOfAction(text, 'ci.yml', action, '.')).toEqual([
      {
        file: 'ci.yml',
        line: 11,
        message: 'output "failed-host" of step "roll" is not defined in action.yml\'s outputs'
      }
    ])
  })

  it('an unknown property of a context is caught by actionlint; vars and ubuntu-24.04 are accepted', async () => {
    const text = workflow('      - run: echo ${{ github.shaa }} ${{ vars.HOSTS }}\n').replace(
      'ubuntu-latest',
      'ubuntu-24.04'
    )
    expect((await lintWorkflow(text, 'ci.yml')).map((problem) => problem.message)).toEqual([
      expect.stringMatching(/^property "shaa" is not defined in object type/)
    ])
  })
})

describe('action.yml', () => {
  it('as it is passes; node20, a missing main, an input without description or an unknown key do not', () => {
    expect(checkActionMetadata(actionYml, '.')).toEqual([])
    const broken = actionYml
      .replace('using: node24', 'using: node20')
      .replace('main: dist/index.js', 'main: dist/main.js')
      .replace('    description: Login user for hosts that do not name one.\n', '')
      .replace('branding:', 'brandin:')
    expect(checkActionMetadata(broken, '.').map((problem) => problem.message)).toEqual([
      'unknown top-level key "brandin"',
      'inputs "username": has no description',
      'runs.using is "node20": expected node24',
      'runs.main: dist/main.js does not exist'
    ])
  })
})

describe('dependabot.yml', () => {
  it('needs version 2, a known interval, and updates for npm and github-actions', () => {
    const text = readFileSync('.github/dependabot.yml', 'utf8')
    expect(checkDependabot(text)).toEqual([])
    const broken = text
      .replace('version: 2', 'version: 1')
      .replace('package-ecosystem: github-actions', 'package-ecosystem: github-action')
    expect(checkDependabot(broken).map((problem) => problem.message)).toEqual([
      'version must be 2',
      expect.stringMatching(/^package-ecosystem "github-action": expected one of/),
      'no updates for github-actions'
    ])
  })
})
