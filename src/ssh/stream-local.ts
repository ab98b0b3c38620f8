// A unix socket on the host, reached through sshd itself (`direct-streamlocal@openssh.com`, what
// `ssh -L port:/path` does): no program needs to be installed there, and nothing runs in a shell.
import type { Client as SshClient, ClientChannel } from 'ssh2'
import { exchange } from '../exchange.js'
import type { SocketAnswer, SocketOptions } from '../ports.js'

/** SSH's reason code for a channel the server will not open by its own rule (AllowStreamLocalForwarding no). */
const ADMINISTRATIVELY_PROHIBITED = 1

class Refused extends Error {}

export async function askStreamLocal(
  ssh: SshClient,
  path: string,
  request: string,
  options: SocketOptions
): Promise<SocketAnswer> {
  const open = () =>
    new Promise<ClientChannel>((resolve, reject) => {
      const opened = (error: Error | undefined, channel: ClientChannel) => {
        if (!error) return resolve(channel)
        const { reason } = error as { reason?: unknown }
        reject(
          reason === ADMINISTRATIVELY_PROHIBITED
            ? new Refused(error.message)
            : new Error(`cannot open ${path} on the host (${error.message}): missing, or not the login user's to open?`)
        )
      }
      // ssh2 throws rather than calls back once the connection is gone.
      try {
        ssh.openssh_forwardOutStreamLocal(path, opened)
      } catch (error: unknown) {
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
  try {
    return { answer: await exchange(open, request, options) }
  } catch (error: unknown) {
    if (error instanceof Refused) return { refused: error.message }
    throw error
  }
}
