// How a command reaches a host's shell, and the small shell texts the adapters share; the larger
// scripts (health, journal, lock, release, upload) are in the ssh/*-scripts.ts beside it. Every one
// is built from quoted values (shellQuote): values are data, never code, whatever quotes, `$()`,
// semicolons or newlines they hold.
//
// A command never travels in a process's arguments. sshd starts a plain `sh -s` (or the host's
// long-lived shell is one), and the command, with the `env` values exported first, reaches the
// `sh -s` that runs it as a here-document, on its standard input: `ps` on the host shows
// `sh -s`, never a secret. The `sh` that reads those lines stays free while the command runs in
// the background, so ending a command (killGroupLine) is one more line on the same session: a host
// that allows one session per connection (MaxSessions 1) can still have a command ended.
import { randomBytes } from 'node:crypto'

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** A marker no command's output can guess, for lines the action prints among a command's own. */
export function nonce(kind: string): string {
  return `__rollout_${kind}_${randomBytes(8).toString('hex')}`
}

/** `export NAME='value'` for each variable a command gets: values quoted, data and never code. */
const exportLines = (env: readonly (readonly [string, string])[]) =>
  env.map(([name, value]) => `export ${name}=${shellQuote(value)}`)

/** First stderr line of every remote command: its process group, so a timeout can end all of it. */
export const PGID_MARKER = '__rollout_pgid__'

/**
 * What the `sh -s` running one command reads: its process group reported first, then `set -e`,
 * the variables and the command, all inside one `{ }` with its input from /dev/null, so the whole
 * script is read before any of it runs and no command can read the rest as its input.
 */
export function commandScript(
  command: string,
  env: readonly (readonly [string, string])[],
  groupFile?: string
): string {
  return [
    '{',
    // Linux hosts: read it from /proc without a fork (it races the command-timeout); others: ps.
    "{ read -r _ _ _ _ pgid _ < /proc/$$/stat; } 2>/dev/null || pgid=$(ps -o pgid= -p $$ | tr -d ' ')",
    `echo "${PGID_MARKER} $pgid" >&2`,
    ...(groupFile === undefined ? [] : [recordGroup(groupFile)]),
    'unset pgid',
    'set -e',
    ...exportLines(env),
    command,
    '} </dev/null'
  ].join('\n')
}

/**
 * Writes `$pgid` and its leader's start time (field 22 of /proc/PID/stat; empty where there is no
 * /proc) to `file`: the start time tells the group apart from a later one that reused its number.
 * A failed write costs only that record.
 */
function recordGroup(file: string): string {
  const fields = `${'_ '.repeat(21)}start _` // read, not cut: no fork before the command starts
  return `{ start=; read -r ${fields} < /proc/$pgid/stat; echo "$pgid $start" > ${file}; unset start; } 2>/dev/null || true`
}

/** `sh -s` reading `script` as a here-document: the lines that run it, opened and closed. */
function hereDocument(prefix: string, script: string, redirections: string): string {
  const end = nonce('script')
  return `${prefix}sh -s ${redirections}<<'${end}'\n${script}\n${end}\n`
}

/** What sshd runs on a command's own channel; the command then arrives on its input (onChannel). */
export const CHANNEL_COMMAND = 'exec sh -s'

/**
 * The input of a channel running CHANNEL_COMMAND: `script` in the background, its exit status
 * printed after `endMarker` on stdout; the reading `sh` meanwhile waits for more lines (a kill),
 * and is ended (HUP, from the job: `$$` is the reading sh) once the status is out, which saves
 * the round trip of ending its input. stdout and stderr stay apart, and the channel itself
 * closes only once nothing holds them.
 */
export function onChannel(script: string, endMarker: string): string {
  const start = hereDocument('( ', script, '')
  return `${start}echo "${endMarker} $?"; kill -HUP $$ ) &\n`
}

/**
 * The first line a long-lived shell reads: it keeps its stdout as fd 4 for the commands, and
 * answers after `readyMarker` how it can start a command in a session of its own. `setsid -w`
 * (util-linux) waits even if setsid had to fork; busybox's has no -w and, like util-linux's,
 * forks only for a process group leader, which a job of a shell without job control never is.
 */
export function shellStart(readyMarker: string): string {
  return `exec 4>&1; if setsid -w true 2>/dev/null; then echo "${readyMarker} setsid -w"; elif command -v setsid >/dev/null; then echo "${readyMarker} setsid"; else echo "${readyMarker} none"; fi\n`
}

/**
 * One command for the long-lived shell, in the background so the shell can still read a kill: in
 * a session of its own (`setsid`), with stderr merged into stdout, in order, piped through `cat`
 * to the channel (fd 4), so the exit status (carried out of the pipeline on fd 5, which `cat`
 * holds too) is printed after `endMarker` only once nothing holds the command's output any more.
 */
export function inShell(script: string, setsid: string, endMarker: string): string {
  const start = hereDocument(`( s=$( { { ${setsid} `, script, '4>&- 5>&- 2>&1 ')
  return `${start}echo $? >&5; } | cat >&4; } 5>&1 ); echo "${endMarker} $s" ) &\n`
}

/**
 * A quick script (ExecOptions.quick) for the long-lived shell: run by it in a subshell, so that an
 * `exit` or `set -e` ends the subshell, not the shell, with stderr merged into stdout and its
 * input from /dev/null, then its exit status after `endMarker`.
 */
export function quickInShell(script: string, env: readonly (readonly [string, string])[], endMarker: string): string {
  return ['( set -e', ...exportLines(env), script, `) </dev/null 2>&1; echo "${endMarker} $?"`, ''].join('\n')
}

/**
 * Ends a command's whole process group: TERM now, KILL a second later from a background job that
 * ignores the TERM (in case the group is the reading `sh`'s own, on a channel) and holds none of
 * the channel's streams, so the channel closes as soon as the command is gone. Dash's `kill`
 * rejects `--`, so the group is written `-PGID`.
 */
export function killGroupLine(pgid: number): string {
  return `trap '' TERM; { sleep 1; kill -KILL -${pgid}; } >/dev/null 2>&1 & trap - TERM; kill -TERM -${pgid} 2>/dev/null\n`
}

/** Takes a host out of the load balancer (health-file): the file its health check reads is removed. */
export function removeFile(path: string): string {
  return `rm -f ${shellQuote(path)}`
}

/** Puts a host back: the health check's file is there again. */
export function touchFile(path: string): string {
  return `touch ${shellQuote(path)}`
}

/** Does nothing: run for the connection it needs (opened again if it was lost). */
export const NOTHING = ':'

/**
 * After a lost connection, or a dead run: waits until process group `pgid` (the command that was
 * running) has no process left, for at most `timeoutMs`, then ends it as its timeout would. Exits
 * 2 if nothing of it was running, 0 if it ended by itself, 3 if it was ended here.
 *
 * With `start` (the leader's start time its command recorded), only that group: a leader alive but
 * started at another time means the number was reused by a group that is not ours (where there is
 * no /proc, a group with that number is taken as ours).
 */
export function awaitGroup(pgid: number, timeoutMs: number, start?: string): string {
  const sameLeader =
    start === undefined
      ? ''
      : `if [ -r /proc/${pgid}/stat ]; then read -r ${'_ '.repeat(21)}s _ < /proc/${pgid}/stat; [ "$s" = ${shellQuote(start)} ] || return 1; fi; `
  return [
    `running() { ${sameLeader}kill -0 -${pgid} 2>/dev/null; }`,
    'running || exit 2',
    'i=0',
    'while running; do',
    `  if [ $i -ge ${Math.ceil(timeoutMs / 200)} ]; then`,
    `    kill -TERM -${pgid} 2>/dev/null; sleep 1; kill -KILL -${pgid} 2>/dev/null; exit 3`,
    '  fi',
    '  sleep 0.2; i=$((i + 1))',
    'done'
  ].join('\n')
}

/** Whether the health check's file is there: exits 0 if it is (in rotation), 1 if not. */
export function fileExists(path: string): string {
  return `test -e ${shellQuote(path)}`
}

/**
 * Writes `request` to the unix socket at `path` with socat and prints the answer: HAProxy's admin
 * socket where sshd will not forward to one. The request is data on socat's input, never an argument.
 */
export function askSocketScript(path: string, request: string): string {
  return [
    'command -v socat >/dev/null || { echo "socat not found on the host" >&2; exit 127; }',
    `printf '%s' ${shellQuote(request)} | socat -t 5 - UNIX-CONNECT:${shellQuote(path)}`
  ].join('\n')
}

/**
 * Waits until the host has no established TCP connection left on `port` (as `ss` sees it),
 * printing the count whenever it changes: one command polling on the host, rather than one SSH
 * command per poll. Exits 127 where `ss` is missing.
 */
export function drainScript(port: number, intervalMs: number): string {
  return [
    'command -v ss >/dev/null || { echo "ss not found on the host (Debian: iproute2)" >&2; exit 127; }',
    'last=',
    'while :; do',
    `  n=$(( $(ss -Htn state established '( sport = :${port} )' | wc -l) ))`,
    '  if [ "$n" != "$last" ]; then echo "$n"; last=$n; fi',
    '  [ "$n" -eq 0 ] && exit 0',
    `  sleep ${(intervalMs / 1000).toFixed(3)}`,
    'done'
  ].join('\n')
}
