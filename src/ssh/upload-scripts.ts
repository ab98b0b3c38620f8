// The shell texts of an upload. An upload's bytes come on the channel's input, so its script
// cannot: it is the channel's command itself (in sshd's arguments for the login shell), and so it
// holds nothing but fixed text and quoted paths, never an env value.
import { posix } from 'node:path'
import { shellQuote } from './remote-scripts.js'

/**
 * Unpacks the tar archive on its input into `dir` (made if missing): modes as they are in the
 * archive (`-p`, not narrowed by the umask), owned by the login user, not by the runner's uid
 * (`--no-same-owner`). Members are never unpacked outside `dir`: tar drops a leading `/` and
 * refuses a `..` without `-P`, and the runner checks a user's archive before sending it.
 */
export function unpackArchive(dir: string, gzipped: boolean): string {
  const d = shellQuote(dir)
  return `mkdir -p ${d} && exec tar -x${gzipped ? 'z' : ''} -p --no-same-owner -f - -C ${d}`
}

/**
 * Writes its input to `path` with `mode` (octal): under a temporary name beside it first, renamed
 * over `path` once whole, so a broken upload never leaves a half file under the real name.
 */
export function writeFile(path: string, mode: number): string {
  const [p, partial] = [shellQuote(path), shellQuote(`${path}.rollout-upload`)]
  return [
    'set -e',
    `mkdir -p ${shellQuote(posix.dirname(path))}`,
    `t=${partial}`,
    `trap 'rm -f "$t"' EXIT`,
    'cat > "$t"',
    `chmod ${(mode & 0o7777).toString(8)} "$t"`,
    `mv -f "$t" ${p}`
  ].join('\n')
}
