import { prng } from '@computegraph/contracts/activity'
import { ROGUE_KINDS, type RogueKind } from './rogue-workers'

/** What the driver does to the running demo. */
export type SoakEvent =
  | { kind: 'ctrl-c' }
  | { kind: 'kill-gateway' }
  | { kind: 'kill-worker' }
  | { kind: 'burst'; wait: boolean }
  | { kind: 'reads' }
  | { kind: 'rogue'; rogue: RogueKind }

export interface ScheduledEvent {
  /** Milliseconds after the soak started. */
  at: number
  event: SoakEvent
}

type Disruption = 'ctrl-c' | 'kill-gateway' | 'kill-worker'
type Traffic = 'burst' | 'burst-nowait' | 'reads' | 'rogue'
const DISRUPTIONS: Disruption[] = ['ctrl-c', 'kill-gateway', 'kill-worker']
const TRAFFIC: Traffic[] = ['burst', 'burst-nowait', 'reads', 'rogue']

function shuffled<T>(xs: readonly T[], rnd: ReturnType<typeof prng>): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/**
 * The soak's timeline from `seed`: a disruption (Ctrl-C and restart, SIGKILL of the gateway, SIGKILL of a worker)
 * about every `disruptEveryMs`, and traffic (bursts with and without ?wait=false, GraphQL and dashboard reads, a
 * rogue worker) about every `trafficEveryMs`. Each kind comes round once per shuffled cycle, so even a short soak
 * sees every disruption, every rogue and both kinds of burst.
 */
export function soakSchedule({
  seed,
  durationMs,
  disruptEveryMs,
  trafficEveryMs,
}: {
  seed: number
  durationMs: number
  disruptEveryMs: number
  trafficEveryMs: number
}): ScheduledEvent[] {
  const rnd = prng(seed)
  const jitter = (ms: number) => ms * (0.75 + rnd.next() * 0.5)
  const events: ScheduledEvent[] = []
  let disruptions: Disruption[] = []
  for (let at = jitter(disruptEveryMs); at < durationMs; at += jitter(disruptEveryMs)) {
    if (disruptions.length === 0) disruptions = shuffled(DISRUPTIONS, rnd)
    events.push({ at, event: { kind: disruptions.shift() as Disruption } })
  }
  let traffic: Traffic[] = []
  let rogues: RogueKind[] = []
  for (let at = jitter(trafficEveryMs); at < durationMs; at += jitter(trafficEveryMs)) {
    if (traffic.length === 0) traffic = shuffled(TRAFFIC, rnd)
    const kind = traffic.shift() as Traffic
    if (kind === 'rogue') {
      if (rogues.length === 0) rogues = shuffled(ROGUE_KINDS, rnd)
      events.push({ at, event: { kind: 'rogue', rogue: rogues.shift() as RogueKind } })
    } else if (kind === 'burst' || kind === 'burst-nowait') {
      events.push({ at, event: { kind: 'burst', wait: kind === 'burst' } })
    } else {
      events.push({ at, event: { kind: 'reads' } })
    }
  }
  return events.sort((a, b) => a.at - b.at)
}
