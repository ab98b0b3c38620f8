import { execFileSync } from 'node:child_process'
import { describe, expect, it } from '@jest/globals'
import { remoteScript, shellQuote } from '../src/shell.js'

describe('shellQuote', () => {
  it.each(["it's", '"double"', '$(touch /tmp/pwned)', 'a; rm -rf /', 'two words', 'line1\nline2', '`id`', ''])(
    'a real sh reads %p back verbatim',
    (value) => {
      expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`]).toString()).toBe(value)
    }
  )
})

describe('remoteScript', () => {
  it('exports variables, then runs the command with set -e in sh', () => {
    const script = remoteScript('echo "$GREETING $ROLLOUT_HOST"; false; echo never', [
      ['GREETING', "hi 'there' $(id)"],
      ['ROLLOUT_HOST', 'h1']
    ])
    let out = ''
    let status = 0
    try {
      execFileSync('sh', ['-c', script])
    } catch (error: unknown) {
      const failed = error as { stdout: Buffer; status: number }
      out = failed.stdout.toString()
      status = failed.status
    }
    expect(out).toBe("hi 'there' $(id) h1\n")
    expect(status).toBe(1)
  })
})
