// Generated from action.yml by `npm run catalog` (scripts/catalog.ts): do not edit. Change action.yml
// and run it again; __tests__/unit/catalog.test.ts fails while this file is stale.

export interface InputSpec {
  readonly name: string
  readonly description: string
  readonly required: boolean
  /** Masked in every log, never quoted back: its description in action.yml begins "Secret:". */
  readonly secret: boolean
  readonly default?: string
}

export interface OutputSpec {
  readonly name: string
  readonly description: string
}

/** action.yml's inputs, in its order. */
// prettier-ignore
export const INPUTS = [
  { name: 'hosts', required: true, secret: false, description: 'Hosts to deploy, in order: one per line or comma-separated, `[user@]host[:port]`, IPv6 as `[::1]:22`; blank lines and `#` comments are ignored.' },
  { name: 'username', required: false, secret: false, description: 'Login user for hosts that do not name one.' },
  { name: 'port', required: false, secret: false, default: '22', description: 'SSH port for hosts that do not name one.' },
  { name: 'private-key', required: false, secret: true, description: 'Secret: the private key\'s text or the path of a key file on the runner. OpenSSH, PKCS#1 or PKCS#8; masked in logs.' },
  { name: 'passphrase', required: false, secret: true, description: 'Secret: the passphrase of `private-key`; masked in logs.' },
  { name: 'password', required: false, secret: true, description: 'Secret: password authentication (prefer `private-key`); masked in logs.' },
  { name: 'known-hosts', required: false, secret: false, description: 'OpenSSH known_hosts text: plain, hashed and `[host]:port` entries, as `ssh-keyscan -p PORT HOST` prints it.' },
  { name: 'known-hosts-file', required: false, secret: false, description: 'A known_hosts file on the runner, read with `known-hosts`. For fleets whose `known-hosts` text would pass the 128 KiB one input may hold (about 1,100 hosts): the runner cannot start the action with a longer one (`E2BIG`).' },
  { name: 'host-fingerprints', required: false, secret: false, description: 'Accepted host key fingerprints, `SHA256:…` as `ssh-keygen -lf` prints them; one per line or comma-separated.' },
  { name: 'strict-host-key-checking', required: false, secret: false, default: 'true', description: '`true`: refuse a host whose key is not in `known-hosts` or `host-fingerprints` (and require one of them). `false`: accept any key, with a warning annotation.' },
  { name: 'jump-host', required: false, secret: false, description: 'Bastion `[user@]host[:port]`, comma-separated for a chain; same authentication and key checking as the hosts.' },
  { name: 'connect-timeout', required: false, secret: false, default: '20s', description: 'Time limit of one connection attempt (`8`, `8s`, `500ms`, `1m`).' },
  { name: 'connect-attempts', required: false, secret: false, default: '3', description: 'Connection attempts per host (1-10). Connection-level errors are retried with backoff (0.5 s, 1 s, 2 s…); refused keys and failed authentication are not.' },
  { name: 'max-connections', required: false, secret: false, default: '50', description: 'The most SSH connections open at once (1-1000). A jump host\'s hop counts as one more per host. Past it, the idle host used least recently is disconnected and reconnects when next used. The largest batch must fit, with one host to spare: see docs/large-fleets.md.' },
  { name: 'env', required: false, secret: false, description: '`KEY=value` lines exported (shell-quoted) to every remote command and health command.' },
  { name: 'load-balancer', required: false, secret: false, description: 'How hosts leave and rejoin the load balancer: `health-file`, `commands`, `haproxy` or `aws-elbv2`. `haproxy` tells HAProxy through its runtime API, `aws-elbv2` changes AWS target groups. Default: `commands` when `offline-command` and `online-command` are both set, `health-file` otherwise.' },
  { name: 'health-file', required: false, secret: false, description: 'File the load balancer\'s health check serves: offline removes it (`rm -f`), online creates it (`touch`).' },
  { name: 'offline-command', required: false, secret: false, description: 'Remote command that takes the host out of the load balancer (instead of removing `health-file`).' },
  { name: 'online-command', required: false, secret: false, description: 'Remote command that puts the host back into the load balancer (instead of touching `health-file`).' },
  { name: 'offline-wait', required: false, secret: false, default: '8s', description: 'Wait after offline for the load balancer to notice and in-flight requests to finish. Durations are `8`, `8s`, `500ms`, `1m`, `1h`.' },
  { name: 'online-wait', required: false, secret: false, default: '8s', description: 'Wait after online for the load balancer to send traffic again, before the next batch.' },
  { name: 'offline-probe', required: false, secret: false, description: 'Command that exits 0 once the load balancer reports the host out of rotation. It runs **on the runner** (by `sh`, with `ROLLOUT_*` and `env` variables), e.g. a cloud CLI or a query of an HAProxy admin socket. Polled every `probe-interval`; `offline-wait` becomes its upper bound. If it never confirms, the host is put back online (nothing was stopped) and fails.' },
  { name: 'online-probe', required: false, secret: false, description: 'Like `offline-probe`, for the host back in rotation; `online-wait` becomes its upper bound. If it never confirms, the host fails and the rollout stops.' },
  { name: 'probe-interval', required: false, secret: false, default: '500ms', description: 'Time between two runs of `offline-probe` or `online-probe`.' },
  { name: 'drain-timeout', required: false, secret: false, description: 'After offline, also wait at most this long for the host\'s connections on `drain-port` to end. They are read with `ss` on the host; past the bound the host is stopped anyway, with a warning. Needs `drain-port`. With `load-balancer: haproxy`, it bounds the wait for HAProxy\'s own count of the host\'s sessions (`scur`) to reach 0 instead (default there: `offline-wait`), and `drain-port` is optional.' },
  { name: 'drain-port', required: false, secret: false, description: 'Port on the host that the load balancer connects to. `drain-timeout` waits for its established connections to end.' },
  { name: 'haproxy-hosts', required: false, secret: false, description: 'With `load-balancer: haproxy`: the LB hosts running HAProxy, one per line or comma-separated. Each is `[user@]host[:port]`, reached over SSH like the hosts (same key; `known-hosts` must cover them); every change goes to each of them (an active/passive or active/active pair). Without it, `haproxy-socket` is reached from the runner.' },
  { name: 'haproxy-socket', required: false, secret: false, default: '/run/haproxy/admin.sock', description: 'HAProxy\'s admin socket (a `stats socket … level admin` line). Its path on each of `haproxy-hosts`, reached through sshd itself (no program needed there; `socat` there where sshd refuses, `AllowStreamLocalForwarding no`), or, without `haproxy-hosts`, a path on the runner or `tcp://ADDRESS:PORT`.' },
  { name: 'haproxy-servers', required: false, secret: false, description: 'HAProxy servers of hosts it does not list at their address. One `ENTRY=backend/server` line per backend (`ENTRY` a `hosts` entry as written); a host not listed is every server at its address, in any backend.' },
  { name: 'target-groups', required: false, secret: false, description: 'With `load-balancer: aws-elbv2`: the target groups every host leaves and rejoins, one ARN per line. Each is `arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`. Credentials are the AWS SDK\'s (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, as aws-actions/configure-aws-credentials sets them).' },
  { name: 'aws-targets', required: false, secret: false, description: 'With `load-balancer: aws-elbv2`: each host\'s target, one `ENTRY=ID[:PORT]` per line. `ENTRY` is the `hosts` entry as written, `ID` an instance id or an IP address (IPv6 in brackets before a port), `PORT` the target\'s port if the group needs one.' },
  { name: 'upload', required: false, secret: false, description: 'Local file or directory staged on each host before it goes offline. It is streamed over the SSH connection as one tar archive (no SFTP needed): every name, mode, symlink and empty directory arrives as it is on the runner. In release mode it lands in the new release directory: a `.tar.gz`/`.tgz` is extracted there, a directory\'s contents are copied there, any other file is placed there.' },
  { name: 'upload-to', required: false, secret: false, description: 'Absolute remote path for `upload` (not in release mode).' },
  { name: 'stop-command', required: false, secret: false, description: 'Remote command that stops the application.' },
  { name: 'deploy-command', required: false, secret: false, description: 'Remote command that installs the release (e.g. unpacks the uploaded package).' },
  { name: 'start-command', required: false, secret: false, description: 'Remote command that starts the application, detached from the SSH session (`nohup`/`setsid`, output redirected).' },
  { name: 'health-url', required: false, secret: false, description: '`http(s)://` URL requested from the host\'s own network view through the SSH connection, e.g. `http://127.0.0.1:8080/health`; may use `${ROLLOUT_HOST}` and `env` names.' },
  { name: 'health-command', required: false, secret: false, description: 'Remote command that exits 0 when the application is healthy (instead of `health-url`).' },
  { name: 'health-status', required: false, secret: false, default: '200', description: 'Healthy HTTP status codes and ranges, e.g. `200,204` or `200-299`.' },
  { name: 'health-body', required: false, secret: false, description: 'Regular expression the health response body must match. Matching the version proves the _new_ release answers.' },
  { name: 'health-timeout', required: false, secret: false, default: '50s', description: 'How long a host may take to become healthy.' },
  { name: 'health-interval', required: false, secret: false, default: '1s', description: 'Time between health checks.' },
  { name: 'command-timeout', required: false, secret: false, default: '10m', description: 'Time limit of each remote command; on timeout the command is killed and the host fails.' },
  { name: 'batch-size', required: false, secret: false, default: '1', description: 'Hosts per batch: `N`, `N%`, or a ramp like `1,25%,100%`. As with Ansible\'s `serial`, the last step repeats; at least 1 host.' },
  { name: 'batch-pause', required: false, secret: false, default: '0s', description: 'Wait between batches.' },
  { name: 'max-failed-hosts', required: false, secret: false, default: '0', description: 'Failed hosts tolerated before the rollout stops (0 stops at the first).' },
  { name: 'rollback-command', required: false, secret: false, description: 'Remote command run on a failed host; if it succeeds and the host is healthy again, it goes back online.' },
  { name: 'migrate-command', required: false, secret: false, description: 'Remote command run once per rollout (migrations). On one host: in release mode in the new release directory, after every host has prepared and before any host switches; otherwise after that host\'s `deploy-command` and before its `start-command`. A failure switches no host (release mode), or fails that host and stops the rollout. See docs/migrations.md.' },
  { name: 'migrate-host', required: false, secret: false, description: 'Host for `migrate-command`, as written in `hosts`. Default: the first host of the first batch.' },
  { name: 'migrate', required: false, secret: false, default: 'once', description: '`once` or `always`. `once` skips `migrate-command` when this release\'s migration already passed on the fleet (release mode records it in `<release-dir>/.history` on the host where it ran); `always` runs it every time.' },
  { name: 'diagnose-command', required: false, secret: false, description: 'Remote command that explains a failed host. For example `journalctl -u app -n 50 --no-pager` or `tail -n 50 log/app.log`: it runs on a host whenever one of its steps fails or its health check gives up, before any rollback, with the `ROLLOUT_*` variables and `env`, for at most `command-timeout` or 30 s, whichever is shorter. Its last 64 KiB of output, secrets masked, go to the log (a group), to the job summary under the host and into `report`; its own failure or timeout is reported and never changes the host\'s result.' },
  { name: 'release-dir', required: false, secret: false, description: 'Release mode: the absolute directory of the releases. It holds `releases/<release-id>/`, the `current` symlink (switched atomically while the host is out of rotation) and `shared/`. `upload` and `prepare-command` then run on every host while it still serves, before any host leaves rotation. Not with `deploy-command`, `rollback-command` or `upload-to`.' },
  { name: 'release-id', required: false, secret: false, description: 'The release\'s directory name, `[A-Za-z0-9._-]+`. Default: the UTC time `YYYYMMDDTHHMMSSZ`, then `-` and the first 7 characters of `GITHUB_SHA` when set. A host already on it and healthy is left `unchanged` (re-runs resume).' },
  { name: 'shared-paths', required: false, secret: false, description: 'Paths every release shares (`.env`, `storage`, `log`), one per line or comma-separated. Relative to a release, they are linked from `<release-dir>/shared/` into every release before `prepare-command`; a missing one is created as an empty directory.' },
  { name: 'prepare-command', required: false, secret: false, description: 'Release mode: remote command run in the new release while the host still serves. It runs in the new release directory, for example `npm ci --omit=dev` or a build.' },
  { name: 'keep-releases', required: false, secret: false, default: '5', description: 'Release mode: releases of each host\'s history (`<release-dir>/.history`) kept after every run; the current one and the one before it are never removed, and a release no run completed always is.' },
  { name: 'rollback-scope', required: false, secret: false, default: 'host', description: 'Release mode. `host`: a failed host is switched back to its previous release (stop, switch, start, health of the status only, online). `fleet`: also every host this run switched, in reverse order and in batches, through the same load balancer steps.' },
  { name: 'rollback-to', required: false, secret: false, description: 'Release mode: deploy nothing, roll the fleet back to `previous` or a release id. `previous` is each host\'s release kept before `current` in its history (a re-run of an unfinished one goes on to the same release); refused before anything is touched unless every host has it.' },
  { name: 'lock', required: false, secret: false, default: 'true', description: 'Take a deploy lock on every host at preflight, so two rollouts never work on the same hosts at once. It is a directory renamed into place whole (`<release-dir>/.lock` in release mode, otherwise `~/.rolling-deploy.lock` or `lock-path`) before anything changes, with a holder file naming the run URL, actor, sha, attempt and start time. A lease: refreshed every 10 s while the run lives, taken over once its beats stopped for 60 s (a dead runner) or at once by a re-run of the same workflow run. A lock a live run holds fails the run before anything is touched, naming its holder. Given back on success, failure and cancellation.' },
  { name: 'lock-path', required: false, secret: false, description: 'Absolute path of the lock directory on the hosts. Outside release mode the default is in the login user\'s home.' },
  { name: 'lock-wait', required: false, secret: false, default: '0s', description: 'How long to wait for a lock another run holds before failing (polled every second); `0s` fails at once.' },
  { name: 'lock-stale-after', required: false, secret: false, description: 'Take over a lock whose holder stopped beating this long ago. Default 60 s; the warning names the holder. It also breaks a lock with no beat (made by an older version) this old.' },
  { name: 'min-in-rotation', required: false, secret: false, description: 'Capacity floor: hosts that stay in rotation while a batch is out, `N` or `N%` of all (rounded up). Before each batch goes offline, `online-probe` runs for every other host; too few in rotation waits up to `capacity-wait`, then stops the rollout before that batch is touched. Needs `online-probe`; a floor the batches can never keep is refused.' },
  { name: 'capacity-wait', required: false, secret: false, default: '0s', description: 'How long to wait at the capacity floor for hosts to come back. Then the rollout stops.' },
  { name: 'bake-time', required: false, secret: false, description: 'After a batch is back in rotation, wait this long before the next batch starts. The bake is judged by `analysis-command`; one duration, or one per `batch-size` step (`batch-size: 1,50%` with `bake-time: 60s,10s` bakes the canary longest).' },
  { name: 'analysis-command', required: false, secret: false, description: 'Runner command that judges a bake: exit 0 passes. Run by `sh` like the probes, every `analysis-interval` during the bake and once at its end. Gets `ROLLOUT_BATCH`, `ROLLOUT_UPDATED_HOSTS` (the `hosts` entries on the new release, space-separated), `ROLLOUT_RELEASE` in release mode, and `env`. Needs `bake-time`.' },
  { name: 'analysis-interval', required: false, secret: false, default: '10s', description: 'Time between analysis measurements, and the most one may take.' },
  { name: 'analysis-failures', required: false, secret: false, default: '1', description: 'Failed measurements in one bake that fail the rollout; with `rollback-scope: fleet` every host this run switched is rolled back, otherwise the rollout stops and reports.' },
  { name: 'dry-run', required: false, secret: false, default: 'false', description: '`true`: connect to every host (preflight) and change nothing; the plan and what preflight found on each host (host key, health path, current release, deploy lock held) go to the log and the job summary.' },
] as const satisfies readonly InputSpec[]

/** action.yml's outputs, in its order. */
// prettier-ignore
export const OUTPUTS = [
  { name: 'result', description: '`success`, `failure` or `cancelled`.' },
  { name: 'succeeded-hosts', description: 'JSON array of the `hosts` entries (as written) now on the new release and in rotation.' },
  { name: 'failed-hosts', description: 'JSON array of the `hosts` entries that failed, were rolled back or were cancelled mid-way.' },
  { name: 'skipped-hosts', description: 'JSON array of the `hosts` entries never touched.' },
  { name: 'report', description: 'JSON array, one object per host. Its keys: `host`, `batch`, `result`, `rotation` (`in`/`out`/`unknown`), `failedStep`, `error`, `durationMs`, `stepsMs`, and in release mode `fromRelease` and `toRelease`; the host that ran (or, when it was skipped, had passed) `migrate-command` also has `migration` (`result`, `durationMs`, `outputTail`, `error`). A host that needs a look has `diagnostics` (`outputTail`, `lastHealth`, `diagnose`). A run whose migration failed before any host switched reports that one host with its `migration` alone. Past 256 Ki characters (about 2,000 hosts; a job\'s outputs may total 1 MB) it keeps the hosts that need a look first, and a warning says so: `report-file` always has every host.' },
  { name: 'report-file', description: 'Path of a JSON file with every host\'s `report` entry. It is under `RUNNER_TEMP`, for `actions/upload-artifact` (an example in docs/large-fleets.md); a dry run\'s holds what preflight found on each host. Empty if it could not be written.' },
  { name: 'duration-ms', description: 'Duration of the rollout in milliseconds.' },
  { name: 'release', description: 'Release mode: the release id every host went to (or was rolled back to, with `rollback-to`).' },
  { name: 'bakes', description: 'JSON array, one object per bake (`bake-time`). Its keys: `batch`, `durationMs`, `verdict` (`passed`, `failed`, `cancelled`) and `measurements` (`atMs`, `code`, `lastLine`); `[]` without bakes.' },
  { name: 'connections', description: 'SSH connections, as a JSON object. Its keys: `limit` (max-connections), `peakOpen` (most open at once), `opened` (in all) and `handshakeRetries` (failed handshakes tried again); each jump-host hop counts as a connection.' },
] as const satisfies readonly OutputSpec[]

type Input = (typeof INPUTS)[number]
export type InputName = Input['name']
/** The inputs action.yml gives a default, so they always have a value. */
export type DefaultedInput = Extract<Input, { readonly default: string }>['name']
export type SecretInput = Extract<Input, { readonly secret: true }>['name']
export type OutputName = (typeof OUTPUTS)[number]['name']

export const INPUT_NAMES: readonly InputName[] = INPUTS.map((input) => input.name)

/** GitHub applies these to a workflow step; every other caller (tests, a terminal) gets them here. */
export const DEFAULTS = Object.fromEntries(
  INPUTS.flatMap((input) => ('default' in input ? [[input.name, input.default]] : []))
) as Readonly<Record<DefaultedInput, string>>

export const SECRET_INPUTS = INPUTS.flatMap((input) => (input.secret ? [input.name] : [])) as readonly SecretInput[]
