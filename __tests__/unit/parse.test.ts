import { describe, expect, it } from '@jest/globals'
import {
  parseBatchSize,
  parseDuration,
  parseEnv,
  parseHostTarget,
  parseStatusRanges,
  splitList
} from '../../src/inputs/parse.js'

describe('parseDuration', () => {
  it.each([
    ['8', 8000],
    ['8s', 8000],
    ['500ms', 500],
    ['1m', 60_000],
    ['1.5s', 1500],
    ['0', 0]
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['8x', '-1s', 's', '', '1 minute', '25h'])('rejects %p', (text) =>
    expect(() => parseDuration(text)).toThrow(/expected/)
  )
})

describe('parseHostTarget', () => {
  it('reads user, host and port', () => {
    expect(parseHostTarget('deploy@web-1.example.com:2222', 22)).toEqual({
      entry: 'deploy@web-1.example.com:2222',
      user: 'deploy',
      host: 'web-1.example.com',
      port: 2222
    })
  })
  it('fills the default port and leaves the user open', () => {
    expect(parseHostTarget('10.0.0.5', 2200)).toEqual({
      entry: '10.0.0.5',
      user: undefined,
      host: '10.0.0.5',
      port: 2200
    })
  })
  it('reads bracketed IPv6 with and without a port', () => {
    expect(parseHostTarget('root@[::1]:2022', 22)).toMatchObject({ user: 'root', host: '::1', port: 2022 })
    expect(parseHostTarget('[fe80::1]', 22)).toMatchObject({ host: 'fe80::1', port: 22 })
  })
  it.each([
    [':22', /missing host/],
    ['host:99999', /invalid port '99999'/],
    ['host:0', /invalid port/],
    ['a b', /invalid host name 'a b'/],
    ['[::1', /unclosed \[/],
    ['::1', /IPv6 addresses need brackets/],
    ['[::1]x', /unexpected 'x'/],
    ['bad user@host', /invalid user/],
    ['[nothex]:22', /not an IPv6 address/]
  ])('rejects %p', (entry, why) => expect(() => parseHostTarget(entry, 22)).toThrow(why))
})

describe('splitList', () => {
  it('splits lines and commas, drops blanks and comments', () => {
    expect(splitList('a, b\n\n# comment\nc # trailing\n')).toEqual(['a', 'b', 'c'])
  })
})

describe('parseStatusRanges', () => {
  it('reads codes and ranges', () => {
    expect(parseStatusRanges('200,204, 300-399')).toEqual([
      { from: 200, to: 200 },
      { from: 204, to: 204 },
      { from: 300, to: 399 }
    ])
  })
  it.each(['abc', '299-200', '700', '20', ''])('rejects %p', (text) =>
    expect(() => parseStatusRanges(text)).toThrow(/expected HTTP status/)
  )
})

describe('parseBatchSize', () => {
  it('reads counts, percentages and ramps', () => {
    expect(parseBatchSize('1,25%,100%')).toEqual([{ count: 1 }, { percent: 25 }, { percent: 100 }])
  })
  it.each(['0', '150%', 'abc', '0%', '-1'])('rejects %p', (text) =>
    expect(() => parseBatchSize(text)).toThrow(/expected N, N%/)
  )
})

describe('parseEnv', () => {
  it('keeps values verbatim after the first =', () => {
    expect(parseEnv('A=1\n\n# c\nB= x=y \n')).toEqual([
      ['A', '1'],
      ['B', ' x=y ']
    ])
  })
  it('rejects lines without = and reserved names', () => {
    expect(() => parseEnv('JUSTNAME')).toThrow(/KEY=value/)
    expect(() => parseEnv('1A=x')).toThrow(/KEY=value/)
    expect(() => parseEnv('ROLLOUT_HOST=x')).toThrow(/reserved/)
  })
})
