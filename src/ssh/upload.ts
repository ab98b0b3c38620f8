// Uploads as one stream over the SSH connection, the way `tar -c | ssh tar -x` does: a directory
// is archived by the runner's `tar` straight into a channel whose `tar` unpacks it on the host, so
// every name (dotfiles too), mode, symlink and empty directory arrives as it was, with no SFTP
// subsystem and no round trip per file. A file is streamed the same way, to `cat`.
import { spawn } from 'node:child_process'
import { createReadStream, readdirSync, statSync } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Client, ClientChannel } from 'ssh2'
import { unpackArchive, writeFile } from './upload-scripts.js'

/** The last line of a stream's text that says what went wrong, for an error message. */
function lastLineOf(chunks: readonly Buffer[]): string {
  const lines = Buffer.concat(chunks).toString('utf8').split('\n')
  // GNU tar ends with "Exiting with failure status due to previous errors": the error is the line before.
  return (
    lines
      .map((line) => line.trim())
      .filter((line) => line && !/Exiting with failure status/.test(line))
      .at(-1) ?? ''
  )
}

/** A process on the runner whose output is the upload (its `tar`): the stream and how it ended. */
interface Source {
  readonly stream: Readable
  /** Resolves to undefined once it ended well, else to why it failed. */
  readonly ended: Promise<string | undefined>
  stop(): void
}

/** Runs the runner's `tar` with `args`, `stdin` as its input. */
function runnerTar(args: readonly string[], stdin = ''): Source {
  // macOS's tar would add AppleDouble `._` files for extended attributes.
  const child = spawn('tar', args, { env: { ...process.env, COPYFILE_DISABLE: '1' } })
  const stderr: Buffer[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  child.stdin.on('error', () => undefined) // a tar that died early: its exit says why
  child.stdin.end(stdin)
  const ended = new Promise<string | undefined>((resolve) => {
    child.once('error', (error) => resolve(`tar on the runner could not run: ${error.message}`))
    child.once('close', (code, signal) =>
      resolve(
        code === 0 ? undefined : `tar on the runner failed (${signal ?? `exit code ${code}`}): ${lastLineOf(stderr)}`
      )
    )
  })
  return { stream: child.stdout, ended, stop: () => child.kill() }
}

/** A local file as it is, read by this process. */
function fileSource(path: string): Source {
  const stream = createReadStream(path)
  const ended = new Promise<string | undefined>((resolve) => {
    stream.once('error', (error) => resolve(`${path} could not be read on the runner: ${error.message}`))
    stream.once('close', () => resolve(undefined))
  })
  return { stream, ended, stop: () => stream.destroy() }
}

/**
 * Streams what `start` starts into a channel running `script` on the host, to both ends: throws
 * with the host's last stderr line if the script fails, or with why the source failed. The source
 * starts once the channel is open: a process's output nothing reads yet is thrown away at its exit.
 */
async function streamTo(connection: Client, script: string, start: () => Source): Promise<void> {
  const channel = await new Promise<ClientChannel>((resolve, reject) =>
    connection.exec(script, (error, opened) => (error ? reject(error) : resolve(opened)))
  )
  const source = start()
  const stderr: Buffer[] = []
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  channel.on('error', () => undefined) // its close follows, without an exit status
  channel.resume() // nothing comes on stdout, but its end must be read for the channel to close
  const exit = new Promise<number | undefined>((resolve) => {
    let code: number | undefined
    channel.once('exit', (status: number | null) => (code = status ?? undefined))
    channel.once('close', () => resolve(code))
  })
  source.stream.pipe(channel)
  const code = await exit
  // The host stopped reading (its tar failed, or the connection dropped): the source is of no use now.
  source.stream.unpipe(channel)
  const stoppedEarly = !source.stream.readableEnded
  if (stoppedEarly) source.stop()
  const sourceFailure = await source.ended
  if (sourceFailure !== undefined && !stoppedEarly) throw new Error(sourceFailure)
  if (code === undefined) throw new Error('the connection closed before the upload finished')
  if (code !== 0) throw new Error(`the upload failed on the host (exit code ${code}): ${lastLineOf(stderr)}`)
}

/**
 * Copies `localPath` to `remotePath`: a directory's contents into the directory `remotePath`
 * (made if missing; its own mode and times are left alone), a file to the file `remotePath`.
 */
export function uploadPath(connection: Client, localPath: string, remotePath: string): Promise<void> {
  const stat = statSync(localPath)
  if (!stat.isDirectory()) return streamTo(connection, writeFile(remotePath, stat.mode), () => fileSource(localPath))
  // The directory's entries, not `.`: unpacking `.` would give its mode and times to an existing
  // upload-to. Their names go in on tar's input, so none is read as an option, however many.
  const names = readdirSync(localPath).map((name) => `./${name}\0`)
  const archive = () => runnerTar(['-c', '-f', '-', '-C', localPath, '--null', '-T', '-'], names.join(''))
  return streamTo(connection, unpackArchive(remotePath, false), archive)
}

/** The first member of a tar listing that would land outside the directory it is unpacked in. */
export function memberOutside(names: readonly string[]): string | undefined {
  return names.find((name) => name.startsWith('/') || name.split('/').includes('..'))
}

/** Unpacks a local .tar.gz/.tgz into the directory `remoteDir`, after checking every member stays inside it. */
export async function unpackInto(connection: Client, archive: string, remoteDir: string): Promise<void> {
  const listing = runnerTar(['-t', '-z', '-f', archive])
  const names: Buffer[] = []
  listing.stream.on('data', (chunk: Buffer) => names.push(chunk))
  const failure = await listing.ended
  if (failure !== undefined) throw new Error(`${archive} could not be listed: ${failure}`)
  const outside = memberOutside(Buffer.concat(names).toString('utf8').split('\n'))
  if (outside !== undefined)
    throw new Error(`${archive} holds ${outside}, which would land outside ${remoteDir}; nothing was unpacked`)
  await streamTo(connection, unpackArchive(remoteDir, true), () => fileSource(archive))
}
