// A unix socket on the host, reached through sshd itself (`direct-streamlocal@openssh.com`, what
// `ssh -L port:/path` does): no program needs to be installed there, and nothing runs in a shell.
import type { Client as SshClient, ClientChannel } from 'ssh2'
import { exchange } from '../exchange.js'
import type { SocketAnswer, SocketOptions } from '../ports.js'

/**
 * sshd would not open the channel. OpenSSH says the same `open failed` whether its
 * AllowStreamLocalForwarding refuses, the socket is missing or the login user may not open it.
 */
class NotOpened extends Error {}

export async function askStreamLocal(
  ssh: SshClient,
  path: string,
  request: string,
  options: SocketOptions
): Promise<SocketAnswer> {
  const open = () =>
    new Promise<ClientChannel>((resolve, reject) => {
      const opened = (error: Error | undefined, channel: ClientChannel) =>
        error ? reject(new NotOpened(error.message)) : resolve(channel)
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
    if (error instanceof NotOpened) return { refused: error.message }
    throw error
  }
}
