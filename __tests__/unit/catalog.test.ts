// action.yml is the one source of the interface: src/inputs/catalog.ts and the README's tables are
// written from it by `npm run catalog`, and these tests fail while either is stale.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import {
  CATALOG_PATH,
  catalogSource,
  firstSentence,
  inputsTable,
  pageWithTables,
  readAction,
  TABLE_PAGES,
  type ActionInterface
} from '../../scripts/catalog.js'
import { DEFAULTS, INPUT_NAMES, SECRET_INPUTS } from '../../src/inputs/catalog.js'

const action = readAction(readFileSync('action.yml', 'utf8'))
const STALE = 'stale: run `npm run catalog` and commit what it writes'

describe('the catalog', () => {
  it(`${CATALOG_PATH} is what action.yml gives (else ${STALE})`, () => {
    expect(readFileSync(CATALOG_PATH, 'utf8')).toBe(catalogSource(action))
  })

  it.each(TABLE_PAGES)(
    `$file: its inputs and outputs tables are what action.yml gives (else ${STALE})`,
    ({ file, detail }) => {
      const page = readFileSync(file, 'utf8')
      expect(page).toBe(pageWithTables(file, page, action, detail))
    }
  )

  it("the README's short tables give each description's first sentence, whole", () => {
    expect(firstSentence('Wait after offline. Polled every 1 s.')).toBe('Wait after offline')
    expect(firstSentence('A regex the body must match (e.g. `v2`); or nothing')).toBe(
      'A regex the body must match (e.g. `v2`)'
    )
    expect(firstSentence('A ramp (the last step repeats; at least 1). More')).toBe(
      'A ramp (the last step repeats; at least 1)'
    )
    expect(firstSentence('Run `a; b`, then stop. More')).toBe('Run `a; b`, then stop')
    expect(firstSentence('No full stop at all')).toBe('No full stop at all')
  })

  it('holds the inputs in order, their defaults as text, and the secret ones', () => {
    expect(INPUT_NAMES[0]).toBe('hosts')
    expect(INPUT_NAMES).toHaveLength(action.inputs.length)
    expect(DEFAULTS).toMatchObject({ port: '22', lock: 'true', 'dry-run': 'false', 'connect-timeout': '20s' })
    expect([...SECRET_INPUTS]).toEqual(['private-key', 'passphrase', 'password'])
  })

  it('marks an input secret by a description that begins "Secret:"', () => {
    const { inputs } = readAction(
      'inputs:\n  token:\n    description: "Secret: a token."\n  name:\n    description: A name, not a secret.\n'
    )
    expect(inputs.map(({ name, secret }) => [name, secret])).toEqual([
      ['token', true],
      ['name', false]
    ])
  })

  it('notices an input action.yml gains', () => {
    const grown: ActionInterface = {
      ...action,
      inputs: [...action.inputs, { name: 'health-path', description: 'A new one.', required: false, secret: false }]
    }
    expect(catalogSource(grown)).not.toBe(catalogSource(action))
    expect(inputsTable(grown)).toContain('| `health-path`')
    const readme = readFileSync('README.md', 'utf8')
    expect(pageWithTables('README.md', readme, grown, 'summary')).not.toBe(readme)
  })

  it('refuses an input without a description, and a README without the markers', () => {
    expect(() => readAction('inputs:\n  hosts:\n    required: true\n')).toThrow("input 'hosts' has no description")
    expect(() => pageWithTables('README.md', '# no tables\n', action, 'summary')).toThrow(
      'README.md: expected <!-- inputs:start -->'
    )
  })
})
