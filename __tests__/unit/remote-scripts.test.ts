// The shell texts of src/remote-scripts.ts, run by a real local `sh` (dash) and bash: what each
// line does, and that no value ever reaches a process's arguments.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { describe, expect, it } from '@jest/globals'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  awaitGroup,
  commandScript,
  drainScript,
  removeFile,
  touchFile,
  inShell,
  quickInShell,
  killGroupLine,
  nonce,
  onChannel,
  PGID_MARKER,
  shellQuote,
  shellStart
} from '../../src/ssh/remote-scripts.js'

/** Feeds `input` to `shell` on its stdin, as sshd feeds a channel; output captured, never inherited. */
const feed = (input: string, shell = 'sh', args = ['-s']) => {
  const result = spawnSync(shell, args, { input, timeout: 10_000 })
  return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

/** The living processes of a group: killed ones linger as zombies until reaped, so they do not count. */
const alive = (pgid: number) =>
  spawnSync('ps', ['-o', 'stat=', '-g', String(pgid)])
    .stdout.toString()
    .split('\n')
    .filter((stat) => stat.trim() !== '' && !stat.startsWith('Z'))

describe('shellQuote', () => {
  it.each(["it's", '"double"', '$(touch /tmp/pwned)', 'a; rm -rf /', 'two words', 'line1\nline2', '`id`', ''])(
    'a real sh reads %p back verbatim',
    (value) => {
      expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`]).toString()).toBe(value)
    }
  )
})

describe('commandScript', () => {
  it('reports its process group first on stderr, exports variables, then runs the command with set -e', () => {
    const script = commandScript('echo "$GREETING $ROLLOUT_HOST"; echo err >&2; false; echo never', [
      ['GREETING', "hi 'there' $(id)"],
      ['ROLLOUT_HOST', 'h1']
    ])
    const result = feed(script)
    expect(result.status).toBe(1)
    expect(result.stdout).toBe("hi 'there' $(id) h1\n")
    const [first, ...rest] = result.stderr.trim().split('\n')
    expect(first).toMatch(new RegExp(`^${PGID_MARKER} \\d+$`))
    expect(rest).toEqual(['err'])
  })

  it('is read whole before it runs: a command reading its input gets nothing, not the rest of the script', () => {
    const result = feed(commandScript('cat; echo "after: $X"', [['X', 'y']]))
    expect(result).toMatchObject({ status: 0, stdout: 'after: y\n' })
  })

  it("with a group file, writes its process group and the leader's start time there before the command runs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-group-'))
    try {
      const file = join(dir, 'host.group')
      // The command reads the file back: it was written before the command started.
      // In a session of its own, as on a host: the sh reading the script leads the command's group.
      const script = commandScript('cat "$F"; cut -d" " -f22 /proc/$$/stat', [['F', file]], shellQuote(file))
      const result = feed(script, 'setsid', ['sh', '-s'])
      const [recorded, start] = result.stdout.trim().split('\n')
      const pgid = /^\S+ (\d+)$/.exec(result.stderr.trim().split('\n')[0])?.[1]
      expect(recorded).toBe(`${pgid} ${start}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('onChannel', () => {
  it('runs the script in the background and prints its status after the end marker', () => {
    const end = nonce('end')
    const result = feed(onChannel(commandScript('echo out; printf tail; exit 3', []), end) + 'wait\n')
    expect(result.stdout).toBe(`out\ntail${end} 3\n`)
  })
})

describe('inShell', () => {
  it.each(['sh', 'bash'])(
    '%s: merges stderr into stdout and prints the status only once no child holds the output',
    (shell) => {
      const end = nonce('end')
      const script = commandScript('echo one; echo two >&2; (sleep 0.5; echo late) & exit 4', [])
      const result = feed(`${shellStart(nonce('ready'))}${inShell(script, 'setsid -w', end)}wait\n`, shell, [])
      const lines = result.stdout.trim().split('\n').slice(1) // after the ready line
      expect(lines.filter((line) => !line.startsWith(PGID_MARKER))).toEqual(['one', 'two', 'late', `${end} 4`])
    }
  )

  it('starts the command in a session of its own, so ending its group spares the shell', () => {
    const end = nonce('end')
    const script = commandScript('echo "$$ $(cut -d" " -f6 /proc/$$/stat)"', [])
    const result = feed(
      `echo "shell $$"\n${shellStart(nonce('ready'))}${inShell(script, 'setsid -w', end)}wait\n`,
      'sh',
      []
    )
    const shellPid = /shell (\d+)/.exec(result.stdout)?.[1]
    const [pid, session] = (/^(\d+) (\d+)$/m.exec(result.stdout) ?? []).slice(1)
    expect(pid).toBe(session) // the command's sh leads its own session
    expect(session).not.toBe(shellPid)
  })
})

describe('quickInShell', () => {
  it.each(['sh', 'bash'])(
    '%s: runs the script in a subshell (exit and set -e end it, not the shell), its input empty, its status after the marker',
    (shell) => {
      const [first, second] = [nonce('end'), nonce('end')]
      const failing = 'echo one; echo two >&2; read -r line || echo "no input"; false; echo never'
      const input = `${quickInShell(failing, [], first)}echo the shell goes on\n`
      const result = feed(
        `${input}${quickInShell('echo "$GREETING"; exit 3', [['GREETING', "it's"]], second)}`,
        shell,
        []
      )
      expect(result.stdout.split('\n')).toEqual([
        'one',
        'two',
        'no input',
        `${first} 1`,
        'the shell goes on',
        "it's",
        `${second} 3`,
        ''
      ])
    }
  )
})

describe('killGroupLine', () => {
  it.each(['bash', 'dash'])('ends the whole group from a %s shell, a child ignoring TERM too', (loginShell) => {
    const group = spawn('setsid', ['sh', '-c', `sh -c 'trap "" TERM; sleep 300' & sleep 300`], { stdio: 'ignore' })
    const pgid = group.pid as number // setsid execs sh in place: the group leader
    execFileSync('sleep', ['0.3'])
    expect(alive(pgid).length).toBeGreaterThanOrEqual(3)
    expect(feed(killGroupLine(pgid), loginShell, []).status).toBe(0)
    execFileSync('sleep', ['1.3'])
    expect(alive(pgid)).toEqual([])
  })

  it('ends the group of the very shell that reads it (a command on a channel of its own)', async () => {
    // As in an SSH session: the reading sh leads the group, and its background command is in it.
    const reader = spawn('setsid', ['sh', '-s'], { stdio: ['pipe', 'ignore', 'ignore'] })
    const pgid = reader.pid as number
    reader.stdin.write('sleep 300 &\n')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const exited = new Promise((resolve) => reader.once('exit', (_code, signal) => resolve(signal)))
    reader.stdin.write(killGroupLine(pgid))
    expect(await exited).toBe('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 1300))
    expect(alive(pgid)).toEqual([])
  })
})

describe('awaitGroup', () => {
  /** A command in a session of its own that no process here is the parent of: one a lost connection left. */
  const orphan = (seconds: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-orphan-'))
    try {
      execFileSync('sh', ['-c', `setsid sh -c 'echo $$ > "$0"; exec sleep ${seconds}' "${dir}/pgid" >/dev/null 2>&1 &`])
      for (let waited = 0; !existsSync(`${dir}/pgid`) && waited < 50; waited++) execFileSync('sleep', ['0.02'])
      execFileSync('sleep', ['0.05'])
      return Number(readFileSync(`${dir}/pgid`, 'utf8'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('waits until the process group of a command that lost its connection is gone: exit 0', () => {
    const pgid = orphan(0.6)
    const started = Date.now()
    expect(feed(awaitGroup(pgid, 5000)).status).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual(500)
    expect(alive(pgid)).toEqual([])
  })

  it('ends it once past the timeout, as the timeout would have: exit 3', () => {
    const pgid = orphan(300)
    expect(feed(awaitGroup(pgid, 400)).status).toBe(3)
    execFileSync('sleep', ['0.3'])
    expect(alive(pgid)).toEqual([])
  })

  it('exits 2 at once when nothing of the group is running', () => {
    const pgid = orphan(0.1)
    execFileSync('sleep', ['0.3'])
    expect(feed(awaitGroup(pgid, 5000, '1')).status).toBe(2)
  })

  it("with the leader's start time, waits only for that group: a reused number is not ours", () => {
    const pgid = orphan(0.6)
    const start = readFileSync(`/proc/${pgid}/stat`, 'utf8').split(' ')[21]
    expect(feed(awaitGroup(pgid, 5000, String(Number(start) + 1))).status).toBe(2) // another leader: left alone
    expect(alive(pgid)).not.toEqual([])
    expect(feed(awaitGroup(pgid, 5000, start)).status).toBe(0) // ours: waited for
    expect(alive(pgid)).toEqual([])
  })
})

describe('no value in any process arguments', () => {
  it('a secret exported to a command in the shell is in its environment, never in a command line', async () => {
    const secret = `tok-${nonce('secret')}`
    const end = nonce('end')
    const shell = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    shell.stdin.write(shellStart(nonce('ready')))
    shell.stdin.write(
      inShell(commandScript('echo "got ${#API_TOKEN}"; sleep 1', [['API_TOKEN', secret]]), 'setsid -w', end)
    )
    const seen: string[] = []
    const deadline = Date.now() + 5000
    while (!out.includes(end) && Date.now() < deadline) {
      seen.push(execFileSync('ps', ['-eo', 'args']).toString())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    shell.stdin.end()
    expect(out).toContain(`got ${secret.length}`)
    expect(seen.length).toBeGreaterThan(5)
    expect(seen.filter((listing) => listing.includes(secret))).toEqual([])
  })
})

describe('the load balancer and drain scripts', () => {
  it('remove and touch a health file whatever its name holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-lbfile-'))
    const file = join(dir, "it's $(touch pwned) here")
    try {
      expect(feed(touchFile(file)).status).toBe(0)
      expect(existsSync(file)).toBe(true)
      expect(feed(removeFile(file)).status).toBe(0)
      expect(existsSync(file)).toBe(false)
      expect(existsSync(join(dir, 'pwned'))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('drain prints the open connections as they change and ends at none; without ss it exits 127', () => {
    const bin = mkdtempSync(join(tmpdir(), 'rollout-fake-ss-'))
    try {
      // A fake ss: 2 connections, then 2, then 1, then none (a count file stands for time passing).
      writeFileSync(
        join(bin, 'ss'),
        `#!/bin/sh\nn=$(cat ${bin}/n 2>/dev/null || echo 0); echo $((n + 1)) > ${bin}/n\ncase $n in 0|1) printf 'a\\nb\\n' ;; 2) echo a ;; esac\n`
      )
      chmodSync(join(bin, 'ss'), 0o755)
      const drained = spawnSync('sh', ['-s'], {
        input: drainScript(80, 10),
        env: { PATH: `${bin}:${process.env.PATH}` },
        timeout: 10_000
      })
      expect({ status: drained.status, stdout: drained.stdout.toString() }).toEqual({ status: 0, stdout: '2\n1\n0\n' })
      const missing = spawnSync('/bin/sh', ['-s'], {
        input: drainScript(80, 10),
        env: { PATH: bin.replace(/$/, '-none') }
      })
      expect(missing.status).toBe(127)
      expect(missing.stderr.toString()).toContain('ss not found on the host')
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  })
})
