// The Settings: every input read, validated and grouped as the layers after it use it. Types only,
// so the many modules that take a part of the settings depend on nothing that reads inputs;
// get-settings.ts assembles them.
import type { KnownHosts } from './known-hosts.js'
import type { BatchStep, HostTarget, StatusRange } from './parse.js'

export type { HostTarget } from './parse.js'

export interface Target extends HostTarget {
  readonly user: string
}

/** How to reach and trust the hosts: what the SSH connector needs, and nothing else. */
export interface SshSettings {
  readonly jumpHosts: readonly Target[]
  readonly auth: { readonly privateKey?: string; readonly passphrase?: string; readonly password?: string }
  readonly hostKeys: {
    readonly strict: boolean
    readonly knownHosts?: KnownHosts
    readonly fingerprints: readonly string[]
  }
  readonly connectTimeoutMs: number
  readonly connectAttempts: number
  /** SSH connections open at once at most, each hop of a jump-host chain counted. */
  readonly maxConnections: number
}

/** How a host leaves (offline) or rejoins (online) the load balancer, and how that is confirmed. */
export interface RotationChange {
  /** The user's command; without one, the health file is removed (offline) or touched (online). */
  readonly command?: string
  /** Without a probe, the fixed wait; with one, the most the probe may take to confirm. */
  readonly waitMs: number
  /** Run on the runner: exits 0 once the load balancer shows the change. */
  readonly probe?: string
}

/** How the action talks to the load balancer: the `load-balancer` input, one adapter each (src/load-balancer/). */
export type LoadBalancerKind = 'health-file' | 'commands' | 'haproxy' | 'aws-elbv2'

/** load-balancer: haproxy, its runtime API (the admin socket). */
export interface HaproxySettings {
  /** LB hosts reached over SSH (the hosts' own SSH settings), each told every change; none: the socket is the runner's. */
  readonly hosts: readonly Target[]
  /** The admin socket: a path (on each LB host, or on the runner), or `tcp://ADDRESS:PORT` from the runner. */
  readonly socket: string
  /** haproxy-servers: a host entry's `backend/server` pairs; a host not listed is found by its address. */
  readonly servers: ReadonlyMap<string, readonly { readonly backend: string; readonly server: string }[]>
}

/** load-balancer: aws-elbv2, target groups of an AWS Elastic Load Balancer (v2: ALB, NLB). */
export interface AwsElbv2Settings {
  readonly targetGroups: readonly string[]
  /** aws-targets: a host entry's target (an instance id or IP address, and a port if the group needs one). */
  readonly targets: ReadonlyMap<string, { readonly id: string; readonly port?: number }>
}

export interface LoadBalancerSettings {
  readonly kind: LoadBalancerKind
  readonly haproxy?: HaproxySettings
  readonly awsElbv2?: AwsElbv2Settings
  /** The file the load balancer's health check reads on the host (e.g. nginx-status.html). */
  readonly healthFile?: string
  readonly offline: RotationChange
  readonly online: RotationChange
  readonly probeIntervalMs: number
  /**
   * After offline: wait (at most timeoutMs) for the host's established connections on port to end;
   * with haproxy, for HAProxy's sessions on it (port optional: then only those).
   */
  readonly drain?: { readonly port?: number; readonly timeoutMs: number }
}

export interface HealthSettings {
  /** May hold `${ROLLOUT_HOST}` and other variables, expanded per host. */
  readonly url?: string
  readonly command?: string
  readonly statuses: readonly StatusRange[]
  readonly body?: RegExp
  readonly timeoutMs: number
  readonly intervalMs: number
}

export interface CommandSettings {
  readonly stop?: string
  readonly deploy?: string
  readonly start?: string
  readonly rollback?: string
  /** Run on a host that failed, before any rollback: its output explains the failure. */
  readonly diagnose?: string
  /** The most any one command may take on a host. */
  readonly timeoutMs: number
}

export interface BatchSettings {
  readonly size: readonly BatchStep[]
  readonly pauseMs: number
  readonly maxFailedHosts: number
}

/** Release mode (release-dir): releases/<id>, an atomic `current` switch, shared/. */
export interface ReleaseSettings {
  readonly dir: string
  /** The release this run rolls out (with rollback-to an id, that id). */
  readonly id: string
  /** A local file or directory that lands in the new release directory. */
  readonly upload?: string
  /** Paths relative to a release, linked from <dir>/shared/ into every release. */
  readonly sharedPaths: readonly string[]
  readonly prepareCommand?: string
  readonly keep: number
  readonly rollbackScope: 'host' | 'fleet'
  /** A run that deploys nothing: `previous` (each host's release before current) or a release id. */
  readonly rollbackTo?: string
}

/** The run-once step (migrate-command): where it runs, and whether one that passed runs again. */
export interface MigrateSettings {
  readonly command: string
  /** The `hosts` entry it runs on: migrate-host, or the first host of the first batch. */
  readonly host: string
  /** migrate: always; otherwise a release whose migration passed on the fleet skips it. */
  readonly always: boolean
}

/** The deploy lock every host holds for the run (input `lock`). */
export interface LockSettings {
  /** Absolute path on the host; undefined: in the login user's home (or <release-dir>/.lock). */
  readonly path?: string
  /** How long a lock another run holds is waited for before the run fails. */
  readonly waitMs: number
  /** A lock older than this is broken, with a warning naming its holder. */
  readonly staleAfterMs?: number
}

/** The capacity floor: hosts that must stay in rotation while a batch is out (input min-in-rotation). */
export interface CapacitySettings {
  /** In hosts (a percentage resolved against all hosts, rounded up). */
  readonly minInRotation: number
  /** How long to wait for hosts to come back before the rollout stops. */
  readonly waitMs: number
}

/** A measurement on the runner that judges a bake: exit 0 passes. */
export interface AnalysisSettings {
  readonly command: string
  /** Between measurements, and the most one may take. */
  readonly intervalMs: number
  /** Failed measurements in one bake that fail the rollout. */
  readonly failures: number
}

/** After a batch is back in rotation, the wait before the next batch starts, judged by the analysis. */
export interface BakeSettings {
  /** One per batch-size step; the last repeats. */
  readonly timesMs: readonly number[]
  readonly analysis?: AnalysisSettings
}

export interface Settings {
  readonly hosts: readonly Target[]
  readonly ssh: SshSettings
  readonly env: readonly (readonly [string, string])[]
  readonly loadBalancer: LoadBalancerSettings
  readonly upload?: { readonly from: string; readonly to: string }
  readonly release?: ReleaseSettings
  readonly migrate?: MigrateSettings
  readonly lock?: LockSettings
  readonly capacity?: CapacitySettings
  readonly bake?: BakeSettings
  readonly commands: CommandSettings
  readonly health: HealthSettings
  readonly batches: BatchSettings
  readonly dryRun: boolean
  /** Hidden as `***` wherever a host's output is reported (secrets.ts hiddenTexts). */
  readonly hidden: readonly string[]
  /** Risky but valid choices, reported as warning annotations. */
  readonly warnings: readonly string[]
}
