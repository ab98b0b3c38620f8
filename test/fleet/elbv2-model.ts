// The target groups behind the ELBv2 stand-in: registration states as AWS shows them, driven by
// real health checks. Each registered target is probed over HTTP every interval (the real app on
// a fleet host); it turns healthy after the healthy threshold of passing checks and unhealthy
// after the unhealthy threshold of failing ones; a deregistered one drains for the group's delay
// and is then gone. Every state change is recorded, with its time, for the tests.

export interface StandInTarget {
  readonly id: string
  readonly port?: number
}

export interface GroupConfig {
  readonly name: string
  /** The group's port: a target registered without one gets it. */
  readonly port: number
  /** deregistration_delay.timeout_seconds. */
  readonly delayS: number
  /** HealthCheckIntervalSeconds (AWS allows whole seconds only). */
  readonly intervalS: number
  readonly healthyThreshold: number
  readonly unhealthyThreshold: number
  /** HealthCheckPath; a check passes on HTTP 200. */
  readonly healthPath: string
  /** false: attached to no load balancer, so every target reads `unused` (Target.NotInUse). */
  readonly attached?: boolean
  /** Registered (and healthy) when the stand-in starts, as in a fleet in service. */
  readonly registered?: readonly StandInTarget[]
}

export interface Registration {
  readonly id: string
  readonly port: number
  state: 'initial' | 'healthy' | 'unhealthy' | 'draining'
  reason?: string
  description?: string
  passes: number
  fails: number
  drained?: NodeJS.Timeout
}

export interface Transition {
  readonly at: number
  readonly group: string
  readonly target: string
  readonly from: string
  readonly to: string
}

export class TargetGroupModel {
  readonly arn: string
  readonly targets = new Map<string, Registration>()
  private readonly timer: NodeJS.Timeout

  constructor(
    readonly config: GroupConfig,
    id: string,
    private readonly transitions: Transition[],
    /** Where a target's health check connects: its IP address, or the address an instance id stands for. */
    private readonly addressOf: (id: string) => string
  ) {
    this.arn = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${config.name}/${id}`
    for (const target of config.registered ?? []) {
      const registration = this.add(target, 'healthy')
      this.record(registration, 'new', 'healthy')
    }
    this.timer = setInterval(() => void this.checkAll(), config.intervalS * 1000)
  }

  key = (target: StandInTarget): string => `${target.id}:${target.port ?? this.config.port}`

  register(target: StandInTarget): void {
    const found = this.targets.get(this.key(target))
    if (found !== undefined && found.state !== 'draining') return // already registered: AWS does nothing
    clearTimeout(found?.drained)
    const registration = this.add(target, 'initial')
    registration.reason = 'Elb.RegistrationInProgress'
    this.record(registration, found?.state ?? 'unused', 'initial')
  }

  deregister(target: StandInTarget): void {
    const found = this.targets.get(this.key(target))
    if (found === undefined || found.state === 'draining') return
    this.set(found, 'draining', 'Target.DeregistrationInProgress', 'Target deregistration is in progress')
    found.drained = setTimeout(() => {
      this.targets.delete(this.key(found))
      this.record(found, 'draining', 'unused')
    }, this.config.delayS * 1000)
  }

  close(): void {
    clearInterval(this.timer)
    for (const registration of this.targets.values()) clearTimeout(registration.drained)
  }

  private add(target: StandInTarget, state: Registration['state']): Registration {
    const registration: Registration = {
      id: target.id,
      port: target.port ?? this.config.port,
      state,
      passes: 0,
      fails: 0
    }
    this.targets.set(this.key(target), registration)
    return registration
  }

  private async checkAll(): Promise<void> {
    const checked = [...this.targets.values()].filter((registration) => registration.state !== 'draining')
    await Promise.all(checked.map(async (registration) => this.judge(registration, await this.check(registration))))
  }

  /** One health check: undefined when it passed, else what AWS would say about it. */
  private async check({ id, port }: Registration): Promise<{ reason: string; description: string } | undefined> {
    const url = `http://${this.addressOf(id)}:${port}${this.config.healthPath}`
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.min(this.config.intervalS * 1000, 2000)) })
      await response.arrayBuffer()
      if (response.status === 200) return undefined
      const description = `Health checks failed with these codes: [${response.status}]`
      return { reason: 'Target.ResponseCodeMismatch', description }
    } catch {
      return { reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }
    }
  }

  private judge(registration: Registration, failed: { reason: string; description: string } | undefined): void {
    if (!this.targets.has(this.key(registration)) || registration.state === 'draining') return // changed meanwhile
    const { healthyThreshold, unhealthyThreshold } = this.config
    if (failed === undefined) {
      registration.passes++
      registration.fails = 0
      if (registration.state !== 'healthy' && registration.passes >= healthyThreshold) this.set(registration, 'healthy')
      else if (registration.state === 'initial') registration.reason = 'Elb.InitialHealthChecking'
    } else {
      registration.fails++
      registration.passes = 0
      if (registration.state !== 'unhealthy' && registration.fails >= unhealthyThreshold)
        this.set(registration, 'unhealthy', failed.reason, failed.description)
    }
  }

  private set(registration: Registration, state: Registration['state'], reason?: string, description?: string) {
    const from = registration.state
    Object.assign(registration, { state, reason, description, passes: 0, fails: 0 })
    this.record(registration, from, state)
  }

  private record(registration: Registration, from: string, to: string): void {
    const target = `${registration.id}:${registration.port}`
    this.transitions.push({ at: Date.now(), group: this.config.name, target, from, to })
  }
}
