// The digest a release records of what was uploaded into it, computed on the runner, so a release
// id re-used for other content is found before any host changes: sha256 over a file's bytes, or
// over a directory tree's names, types, modes, file contents and link targets, in sorted order
// (times and owners are not content; the same tree gives the same digest on any runner).
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** `sha256:<hex>` of the upload at `path` (a file or a directory, followed if a link). */
export async function uploadDigest(path: string): Promise<string> {
  const hash = createHash('sha256')
  if ((await stat(path)).isDirectory()) await hashTree(hash, path, '')
  else await hashFile(hash, path)
  return `sha256:${hash.digest('hex')}`
}

async function hashFile(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
}

/** Each entry as a header (type, mode, size or target, name; NUL-ended) followed, for a file, by its bytes. */
async function hashTree(hash: Hash, root: string, relative: string): Promise<void> {
  const names = (await readdir(join(root, relative))).sort()
  for (const name of names) {
    const path = join(relative, name)
    const entry = await lstat(join(root, path))
    const mode = (entry.mode & 0o7777).toString(8)
    if (entry.isSymbolicLink()) {
      hash.update(`l ${mode} ${await readlink(join(root, path))}\0${path}\0`)
    } else if (entry.isDirectory()) {
      hash.update(`d ${mode}\0${path}\0`)
      await hashTree(hash, root, path)
    } else if (entry.isFile()) {
      hash.update(`f ${mode} ${entry.size}\0${path}\0`)
      await hashFile(hash, join(root, path))
    } else {
      hash.update(`o ${mode}\0${path}\0`) // a socket or fifo: its name and mode are all it is
    }
  }
}
