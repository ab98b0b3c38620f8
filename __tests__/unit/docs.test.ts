// action.yml, the README and the code must agree on the interface.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { DEFAULTS, getSettings } from '../../src/inputs/settings.js'
import { BASE_INPUTS } from '../../test/fakes/fakes.js'

const actionYml = readFileSync('action.yml', 'utf8')
const readme = readFileSync('README.md', 'utf8')
const section = (name: string) => actionYml.split(/^(?=\w+:)/m).find((part) => part.startsWith(`${name}:`)) ?? ''
const keys = (text: string) => [...text.matchAll(/^ {2}([a-z-]+):/gm)].map((match) => match[1])

describe('the documented interface', () => {
  const inputs = keys(section('inputs'))
  const outputs = keys(section('outputs'))

  it('action.yml declares exactly the inputs the action reads', () => {
    const read = new Set<string>()
    getSettings((name) => {
      read.add(name)
      return BASE_INPUTS[name] ?? ''
    })
    expect([...read].sort()).toEqual([...inputs].sort())
  })

  it('the README documents every input and output in its tables', () => {
    const documented = [...readme.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((match) => match[1])
    expect(documented).toEqual(expect.arrayContaining([...inputs, ...outputs]))
  })

  it("the code's input defaults are action.yml's, value for value", () => {
    const declared = Object.fromEntries(
      [...section('inputs').matchAll(/^ {2}([a-z-]+):\n(?: {4}(?!default:).*\n)*? {4}default: (.*)$/gm)].map(
        ([, name, value]) => [name, value.replace(/^'(.*)'$/, '$1')]
      )
    )
    expect(Object.keys(declared).length).toBeGreaterThanOrEqual(15)
    expect(DEFAULTS).toEqual(declared)
  })

  it('action.yml runs the bundle on node24', () => {
    expect(actionYml).toMatch(/runs:\n {2}using: node24\n {2}main: dist\/index.js/)
  })
})
