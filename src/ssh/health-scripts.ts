// The shell texts of a health path that does not go through an SSH tunnel: finding an HTTP client
// on a host whose sshd refuses to forward, a GET with it, and finding health-command's program.
import { shellQuote } from './remote-scripts.js'

/** The HTTP clients a health check can use on the host itself, in the order they are looked for. */
export const HOST_HTTP_CLIENTS = ['curl', 'wget'] as const
export type HostHttpClient = (typeof HOST_HTTP_CLIENTS)[number]

/** Prints the first of HOST_HTTP_CLIENTS on the host's PATH; exits 1 if there is none. */
export const FIND_HTTP_CLIENT = `for c in ${HOST_HTTP_CLIENTS.join(' ')}; do if command -v "$c" >/dev/null 2>&1; then echo "$c"; exit 0; fi; done; exit 1`

/** Exits 0 if `program` is on the host's PATH (or a builtin), printing where it is. */
export function findProgram(program: string): string {
  return `command -v ${shellQuote(program)}`
}

/**
 * GETs `url` from the host: the body on stdout, then, as the last line, `statusMarker` and the
 * HTTP status. TLS is not verified, as through the tunnel: the SSH connection proved the host.
 */
export function getOnHost(client: HostHttpClient, url: string, timeoutMs: number, statusMarker: string): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
  const u = shellQuote(url)
  const agent = "'rolling-deploy-health-check'"
  if (client === 'curl')
    return `curl -sS -k -A ${agent} --max-time ${seconds} -w '\\n${statusMarker} %{http_code}\\n' --url ${u}`
  // wget prints the response's headers (-S) on stderr: the last status line is the final answer.
  return [
    'exec 3>&1',
    `s=$(wget -q -S -O - -U ${agent} -T ${seconds} --no-check-certificate ${u} 2>&1 >&3 | sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' | tail -n 1)`,
    `echo; echo "${statusMarker} $s"`
  ].join('\n')
}
