// What bounds the wait for a host's sessions to end when the load balancer counts them (HAProxy):
// read by the adapter that waits, by the step that records the bound, and by the dry-run plan.
import type { LoadBalancerSettings } from '../inputs/settings.js'

/** drain-timeout, or else offline-wait: the input's name (for messages) and its value. */
export function drainBound({ drain, offline }: LoadBalancerSettings): { bound: string; timeoutMs: number } {
  return drain
    ? { bound: 'drain-timeout', timeoutMs: drain.timeoutMs }
    : { bound: 'offline-wait', timeoutMs: offline.waitMs }
}
