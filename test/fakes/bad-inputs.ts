// Bad inputs, each with the one problem it must produce: the settings unit test checks the
// problem text, the security test runs each through dist/ and checks nothing was connected to.

/** A known_hosts line for `[h1]:2222` (no host in the tables listens there). */
export const KNOWN = '[h1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMCAlmgOZc39EY549caQxuNtrFKoeNLtIMA4XMPHthJ/'

/** Name, the inputs changed from BASE_INPUTS (undefined removes one), and the problem expected. */
export type BadInput = [string, Record<string, string | undefined>, RegExp]

/** load-balancer: haproxy, in place of BASE_INPUTS' health file. */
const HAPROXY = { 'load-balancer': 'haproxy', 'health-file': undefined }

export const BAD_INPUTS: BadInput[] = [
  ['hosts missing', { hosts: undefined }, /^hosts: is required; expected one \[user@\]host\[:port\]/],
  ['hosts only comments', { hosts: '# none\n' }, /^hosts: is required/],
  ['host without name', { hosts: 'u@:22' }, /^hosts 'u@:22': missing host; expected \[user@\]host\[:port\]/],
  ['port out of range', { hosts: 'u@host:99999' }, /^hosts 'u@host:99999': invalid port '99999'/],
  ['space in host', { hosts: 'u@a b' }, /^hosts 'u@a b': invalid host name 'a b'/],
  ['unclosed IPv6 bracket', { hosts: 'u@[::1' }, /^hosts 'u@\[::1': unclosed \[/],
  ['duplicate host', { hosts: 'u@h1\nu@H1:22' }, /^hosts 'u@H1:22': is listed twice/],
  ['no user anywhere', { hosts: 'h1' }, /^hosts 'h1': names no user and the username input is empty/],
  ['bad default port', { port: '0' }, /^port '0': expected a whole number from 1 to 65535/],
  [
    'unknown duration unit',
    { 'offline-wait': '8 parsecs' },
    /^offline-wait '8 parsecs': expected a number with an optional unit ms, s, m or h/
  ],
  ['negative duration', { 'online-wait': '-1s' }, /^online-wait '-1s': expected a number/],
  ['zero health timeout', { 'health-timeout': '0' }, /^health-timeout '0': must be more than 0/],
  ['zero health interval', { 'health-interval': '0ms' }, /^health-interval '0ms': must be more than 0/],
  ['zero command timeout', { 'command-timeout': '0s' }, /^command-timeout '0s': must be more than 0/],
  ['zero connect attempts', { 'connect-attempts': '0' }, /^connect-attempts '0': expected a whole number from 1 to 10/],
  ['zero max-connections', { 'max-connections': '0' }, /^max-connections '0': expected a whole number from 1 to 1000/],
  ['max-connections words', { 'max-connections': 'many' }, /^max-connections 'many': expected a whole number/],
  [
    'batch past max-connections',
    { 'max-connections': '3', 'batch-size': '3' },
    /^max-connections '3': is too few for batches of 3 host\(s\): the batch and one host to spare need 4 SSH connections; expected at least 4, or a smaller batch-size/
  ],
  [
    'batch past max-connections through a jump host',
    { 'max-connections': '5', 'batch-size': '50%', 'jump-host': 'u@bastion' },
    /^max-connections '5': is too few for batches of 2 host\(s\): the batch and one host to spare need 6 SSH connections \(2 each: 1 jump host\(s\) and the host\)/
  ],
  ['negative max-failed-hosts', { 'max-failed-hosts': '-1' }, /^max-failed-hosts '-1': expected a whole number from 0/],
  ['batch-size 0', { 'batch-size': '0' }, /^batch-size '0': '0' is not valid; expected N, N% \(1-100%\)/],
  ['batch-size 150%', { 'batch-size': '150%' }, /^batch-size '150%': '150%' is not valid/],
  ['batch-size abc', { 'batch-size': 'abc' }, /^batch-size 'abc': 'abc' is not valid/],
  [
    'invalid regex',
    { 'health-body': 'version=(' },
    /^health-body 'version=\(': expected a JavaScript regular expression/
  ],
  [
    'bad status range',
    { 'health-status': '299-200' },
    /^health-status '299-200': '299-200' is not valid; expected HTTP status codes/
  ],
  ['status not a code', { 'health-status': 'ok' }, /^health-status 'ok': 'ok' is not valid/],
  [
    'health-url not http',
    { 'health-url': 'ftp://x/' },
    /^health-url 'ftp:\/\/x\/': expected an http:\/\/ or https:\/\/ URL/
  ],
  [
    'health-url unknown variable',
    { 'health-url': 'http://${APP_HOST}:80/' },
    /^health-url 'http:\/\/\$\{APP_HOST\}:80\/': \$\{APP_HOST\} is not a known variable; expected one of ROLLOUT_HOST, /
  ],
  ['health-url relative', { 'health-url': '/health' }, /^health-url '\/health': expected an absolute http/],
  [
    'both health-url and health-command',
    { 'health-command': 'true' },
    /^health-command 'true': cannot be combined with health-url/
  ],
  ['no health check', { 'health-url': undefined }, /^health-url: health-url or health-command is required/],
  [
    'no way to leave the LB',
    { 'health-file': undefined, 'online-command': 'lb add' },
    /^offline-command: health-file or offline-command is required/
  ],
  [
    'health-file unused',
    { 'offline-command': 'a', 'online-command': 'b' },
    /^health-file '\/srv\/status\/nginx-status.html': is unused when both/
  ],
  ['relative health-file', { 'health-file': 'status.html' }, /^health-file 'status.html': expected an absolute path/],
  [
    'no commands',
    { 'stop-command': undefined, 'start-command': undefined },
    /^stop-command: at least one of stop-command, deploy-command or start-command/
  ],
  ['upload without upload-to', { upload: 'package.json' }, /^upload-to: upload and upload-to go together/],
  [
    'upload missing locally',
    { upload: '/nonexistent/pkg.tgz', 'upload-to': '/tmp/pkg.tgz' },
    /^upload '\/nonexistent\/pkg.tgz': does not exist on the runner/
  ],
  ['bad boolean', { 'dry-run': 'yes' }, /^dry-run 'yes': expected true or false/],
  // An env line is never quoted back: env holds secrets (security.test checks none is printed).
  [
    'env line without =',
    { env: 'A=1\nDB_PASSWORD hunter2-never-shown' },
    /^env: line 2 has no '=' \(not shown: it may hold a secret\); expected KEY=value lines$/
  ],
  [
    'env name not a variable',
    { env: 'API-TOKEN=hunter2-never-shown' },
    /^env: line 1: 'API-TOKEN' is not valid; expected KEY=value lines with KEY a shell variable name$/
  ],
  ['env name reserved', { env: 'ROLLOUT_HOST=x' }, /^env: line 1: 'ROLLOUT_HOST' is reserved/],
  [
    'malformed private key',
    { 'private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----' },
    /^private-key: is not a private key ssh2 can read/
  ],
  [
    'unreadable private key file',
    { 'private-key': '/nonexistent/id_ed25519' },
    /^private-key: is neither a private key .* nor the path of a readable key file/
  ],
  ['no authentication', { 'private-key': undefined }, /^private-key: is required/],
  [
    'passphrase without key',
    { 'private-key': undefined, password: 'pw', passphrase: 'secret' },
    /^passphrase: is set without private-key/
  ],
  [
    'strict checking without keys',
    { 'strict-host-key-checking': 'true' },
    /^known-hosts: known-hosts \(or known-hosts-file\) or host-fingerprints is required .*ssh-keyscan/
  ],
  [
    'known-hosts matching no host',
    { 'strict-host-key-checking': 'true', hosts: 'u@h1', 'known-hosts': KNOWN },
    /^known-hosts: has no entry for u@h1 \(looked for 'h1'\)/
  ],
  [
    'a known-hosts-file that is not there',
    { 'strict-host-key-checking': 'true', 'known-hosts-file': '/nonexistent/known_hosts' },
    /^known-hosts-file '\/nonexistent\/known_hosts': cannot be read \(ENOENT\); expected the path of a known_hosts file on the runner$/
  ],
  [
    'malformed known-hosts',
    { 'strict-host-key-checking': 'true', 'known-hosts': 'h1 ssh-ed25519' },
    /^known-hosts '.*': line 1 is not valid/
  ],
  [
    'bad fingerprint',
    { 'strict-host-key-checking': 'true', 'host-fingerprints': 'MD5:aa:bb' },
    /^host-fingerprints 'MD5:aa:bb': expected an OpenSSH SHA256 fingerprint/
  ],
  ['bad jump host', { 'jump-host': 'u@bastion:70000' }, /^jump-host 'u@bastion:70000': invalid port/],
  [
    'probe with no time to confirm',
    { 'offline-probe': 'lb-says out', 'offline-wait': '0' },
    /^offline-wait '0': must be more than 0 when offline-probe is set/
  ],
  ['zero probe interval', { 'probe-interval': '0s' }, /^probe-interval '0s': must be more than 0/],
  ['drain-port alone', { 'drain-port': '80' }, /^drain-port '80': drain-timeout and drain-port go together/],
  [
    'drain-port out of range',
    { 'drain-timeout': '5s', 'drain-port': '70000' },
    /^drain-port '70000': expected a whole number from 1 to 65535/
  ],
  [
    'relative release-dir',
    { 'release-dir': 'srv/app' },
    /^release-dir 'srv\/app': expected an absolute directory on the host other than \//
  ],
  ['release-dir /', { 'release-dir': '/' }, /^release-dir '\/': expected an absolute directory/],
  [
    'release-id with a slash',
    { 'release-dir': '/srv/app', 'release-id': 'v1/../x' },
    /^release-id 'v1\/..\/x': expected a release id of letters, digits/
  ],
  ['release-id ..', { 'release-dir': '/srv/app', 'release-id': '..' }, /^release-id '..': expected a release id/],
  [
    'shared path leaving the release',
    { 'release-dir': '/srv/app', 'shared-paths': '../etc' },
    /^shared-paths '..\/etc': expected a path inside a release/
  ],
  [
    'absolute shared path',
    { 'release-dir': '/srv/app', 'shared-paths': '/etc/passwd' },
    /^shared-paths '\/etc\/passwd': expected a path inside a release/
  ],
  ['rollback-to without release-dir', { 'rollback-to': 'previous' }, /^rollback-to 'previous': needs release-dir/],
  [
    'prepare-command without release-dir',
    { 'prepare-command': 'npm ci' },
    /^prepare-command 'npm ci': needs release-dir/
  ],
  [
    'deploy-command with release-dir',
    { 'release-dir': '/srv/app', 'deploy-command': 'tar xzf x' },
    /^deploy-command: is not used with release-dir/
  ],
  [
    'rollback-command with release-dir',
    { 'release-dir': '/srv/app', 'rollback-command': 'x' },
    /^rollback-command: is not used with release-dir/
  ],
  [
    'upload-to with release-dir',
    { 'release-dir': '/srv/app', upload: 'package.json', 'upload-to': '/tmp/x' },
    /^upload-to: is not used with release-dir/
  ],
  ['rollback-scope misspelled', { 'rollback-scope': 'all' }, /^rollback-scope 'all': expected host or fleet/],
  [
    'rollback-scope fleet without release-dir',
    { 'rollback-scope': 'fleet' },
    /^rollback-scope 'fleet': fleet needs release-dir/
  ],
  [
    'keep-releases 0',
    { 'release-dir': '/srv/app', 'keep-releases': '0' },
    /^keep-releases '0': expected a whole number from 1 to 1000/
  ],
  [
    'rollback-to with prepare-command',
    { 'release-dir': '/srv/app', 'rollback-to': 'previous', 'prepare-command': 'x' },
    /^prepare-command: cannot be combined with rollback-to/
  ],
  ['lock not a boolean', { lock: 'maybe' }, /^lock 'maybe': expected true or false/],
  ['lock-wait without lock', { lock: 'false', 'lock-wait': '30s' }, /^lock-wait '30s': needs lock: true/],
  [
    'relative lock-path',
    { 'lock-path': 'deploy.lock' },
    /^lock-path 'deploy.lock': expected an absolute path on the host/
  ],
  ['lock-stale-after 0', { 'lock-stale-after': '0s' }, /^lock-stale-after '0s': must be more than 0/],
  [
    'min-in-rotation not a count',
    { 'min-in-rotation': 'three', 'online-probe': 'true' },
    /^min-in-rotation 'three': expected N hosts or N% of all hosts/
  ],
  [
    'min-in-rotation 150%',
    { 'min-in-rotation': '150%', 'online-probe': 'true' },
    /^min-in-rotation '150%': expected N hosts or N%/
  ],
  [
    'min-in-rotation without online-probe',
    { 'min-in-rotation': '2' },
    /^min-in-rotation '2': needs online-probe with load-balancer: health-file: it is how the action sees which other hosts are in rotation/
  ],
  [
    'load-balancer not one of the kinds',
    { 'load-balancer': 'f5' },
    /^load-balancer 'f5': expected one of health-file, commands, haproxy, aws-elbv2/
  ],
  [
    'load-balancer: commands without both commands',
    { 'load-balancer': 'commands', 'offline-command': 'lb rm' },
    /^load-balancer 'commands': needs offline-command and online-command/
  ],
  [
    'aws-elbv2 with a load balancer ARN for a target group',
    {
      'load-balancer': 'aws-elbv2',
      'health-file': undefined,
      'target-groups': 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef',
      // aws-targets names hosts entries as written: these cases name their own hosts.
      hosts: 'deploy@h1\ndeploy@h2',
      'aws-targets': 'deploy@h1=i-00000001\ndeploy@h2=i-00000002'
    },
    /^target-groups 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer\/app\/web\/0123456789abcdef': expected a target group ARN, arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup\/NAME\/ID$/
  ],
  [
    'aws-elbv2 with a host without a target',
    {
      'load-balancer': 'aws-elbv2',
      'health-file': undefined,
      'target-groups': 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
      hosts: 'deploy@h1\ndeploy@h2',
      'aws-targets': 'deploy@h1=10.0.0.1:80'
    },
    /^aws-targets: has no target for deploy@h2; expected one ENTRY=ID\[:PORT\]/
  ],
  [
    'a floor the batches can never keep',
    { 'min-in-rotation': '3', 'online-probe': 'true', 'batch-size': '2' },
    /^min-in-rotation '3': is 3 host\(s\), but a batch of 2 out of 4 leaves 2; expected at most 2/
  ],
  [
    'a floor of 100%',
    { 'min-in-rotation': '100%', 'online-probe': 'true' },
    /^min-in-rotation '100%': is 4 host\(s\), but a batch of 1 out of 4 leaves 3/
  ],
  ['capacity-wait without min-in-rotation', { 'capacity-wait': '30s' }, /^capacity-wait '30s': needs min-in-rotation/],
  [
    'malformed capacity-wait',
    { 'min-in-rotation': '2', 'online-probe': 'true', 'capacity-wait': 'soon' },
    /^capacity-wait 'soon': expected a number/
  ],
  [
    'malformed bake-time',
    { 'bake-time': '60s,ten' },
    /^bake-time '60s,ten': 'ten': expected a number with an optional unit/
  ],
  ['empty bake-time list', { 'bake-time': ',' }, /^bake-time ',': expected a duration or a list of durations/],
  [
    'bake-time list longer than the ramp',
    { 'batch-size': '1,50%', 'bake-time': '60s,10s,5s' },
    /^bake-time '60s,10s,5s': has 3 durations but batch-size '1,50%' has 2 step\(s\)/
  ],
  [
    'haproxy-servers naming a host not in hosts',
    { ...HAPROXY, 'haproxy-servers': 'deploy@h9=app/web9' },
    /^haproxy-servers 'deploy@h9=app\/web9': 'deploy@h9' is not in hosts; expected one of deploy@/
  ],
  [
    'haproxy server name that would split the command',
    { ...HAPROXY, 'haproxy-servers': 'deploy@h1=app/web1;shutdown sessions' },
    /^haproxy-servers 'deploy@h1=app\/web1;shutdown sessions': expected ENTRY=backend\/server, HAProxy names of letters/
  ],
  [
    'haproxy-socket over TCP with haproxy-hosts',
    { ...HAPROXY, 'haproxy-hosts': 'lb@lb1', 'haproxy-socket': 'tcp://10.0.0.9:9999' },
    /^haproxy-socket 'tcp:\/\/10.0.0.9:9999': is a TCP address, which the runner reaches; with haproxy-hosts, give the unix socket's path/
  ],
  [
    'haproxy-socket not an absolute path',
    { ...HAPROXY, 'haproxy-socket': 'run/admin.sock' },
    /^haproxy-socket 'run\/admin.sock': expected the admin socket's absolute path/
  ],
  [
    'haproxy-hosts with another load balancer',
    { 'haproxy-hosts': 'lb@lb1' },
    /^haproxy-hosts 'lb@lb1': is only used with load-balancer: haproxy \(here: health-file\)/
  ],
  [
    'offline-probe with haproxy',
    { ...HAPROXY, 'offline-probe': 'true' },
    /^offline-probe 'true': is not used with load-balancer: haproxy, whose own servers' state is read/
  ],
  [
    'an LB host known-hosts does not cover',
    {
      ...HAPROXY,
      'strict-host-key-checking': 'true',
      hosts: 'u@h1:2222',
      'known-hosts': KNOWN,
      'haproxy-hosts': 'lb@lb1'
    },
    /^known-hosts: has no entry for lb@lb1 \(looked for 'lb1'\)/
  ],
  ['analysis-command without bake-time', { 'analysis-command': 'true' }, /^analysis-command: needs bake-time/],
  [
    'zero analysis-interval',
    { 'bake-time': '60s', 'analysis-interval': '0s' },
    /^analysis-interval '0s': must be more than 0/
  ],
  [
    'zero analysis-failures',
    { 'bake-time': '60s', 'analysis-failures': '0' },
    /^analysis-failures '0': expected a whole number from 1 to 1000/
  ],
  [
    'migrate neither once nor always',
    { 'migrate-command': 'migrate-db', migrate: 'twice' },
    /^migrate 'twice': expected once or always/
  ],
  [
    'migrate-host not among hosts',
    { 'migrate-command': 'migrate-db', 'migrate-host': 'deploy@h9' },
    /^migrate-host 'deploy@h9': expected one of hosts: deploy@/
  ],
  [
    'migrate-host without migrate-command',
    { 'migrate-host': 'deploy@h1' },
    /^migrate-host 'deploy@h1': needs migrate-command/
  ]
]
