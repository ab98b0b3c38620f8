// Everything that reaches a remote shell from an input goes through shellQuote: values are data,
// never code, whatever quotes, `$()`, semicolons or newlines they hold.

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** First stderr line of every remote command: its process group, so a timeout can end all of it. */
export const PGID_MARKER = '__rollout_pgid__'

/**
 * The command line sent over SSH: `sh -c` with `set -e` semantics and the variables exported
 * first, so the user's login shell (bash, zsh, fish...) never interprets the script itself.
 * sshd makes each session its own process group; the script reports it because closing the
 * channel (or an SSH `signal` request, which OpenSSH ignores here) does not stop the command.
 */
export function remoteScript(command: string, env: readonly (readonly [string, string])[]): string {
  const exports = env.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join('\n')
  // Linux hosts: read it from /proc without a fork (it races the command-timeout); others: ps.
  const reportGroup = `{ read -r _ _ _ _ pgid _ < /proc/$$/stat; } 2>/dev/null || pgid=$(ps -o pgid= -p $$ | tr -d ' ')
echo "${PGID_MARKER} $pgid" >&2; unset pgid`
  return `sh -c ${shellQuote(`${reportGroup}\nset -e\n${exports}\n${command}`)}`
}

/**
 * Ends a remote command's whole process group: TERM first, KILL if it is still there. Run by
 * `sh`, whatever the login shell, in the one spelling dash's `kill` accepts (it rejects `--`).
 */
export function killGroupScript(pgid: number): string {
  return `sh -c ${shellQuote(`kill -TERM -${pgid} 2>/dev/null; sleep 1; kill -KILL -${pgid} 2>/dev/null; true`)}`
}
