// Everything that reaches a remote shell from an input goes through shellQuote: values are data,
// never code, whatever quotes, `$()`, semicolons or newlines they hold.

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * The command line sent over SSH: `sh -c` with `set -e` semantics and the variables exported
 * first, so the user's login shell (bash, zsh, fish...) never interprets the script itself.
 */
export function remoteScript(command: string, env: readonly (readonly [string, string])[]): string {
  const exports = env.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join('\n')
  return `sh -c ${shellQuote(`set -e\n${exports}\n${command}`)}`
}
