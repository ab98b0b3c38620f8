// action.yml, the README and the code must agree on the interface. catalog.test.ts keeps the
// catalog (names, defaults, secrets) and the README's tables equal to action.yml.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { INPUT_NAMES } from '../../src/inputs/catalog.js'
import { getSettings } from '../../src/inputs/get-settings.js'
import { BASE_INPUTS } from '../../test/fakes/fakes.js'

const actionYml = readFileSync('action.yml', 'utf8')

describe('the documented interface', () => {
  it('action.yml declares exactly the inputs the action reads', () => {
    const read = new Set<string>()
    getSettings((name) => {
      read.add(name)
      return BASE_INPUTS[name] ?? ''
    })
    expect([...read].sort()).toEqual([...INPUT_NAMES].sort())
  })

  it('action.yml runs the bundle on node24', () => {
    expect(actionYml).toMatch(/runs:\n {2}using: node24\n {2}main: dist\/index.js/)
  })
})
