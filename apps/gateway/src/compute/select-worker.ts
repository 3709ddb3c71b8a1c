import type { Hex } from 'viem'

/** What the router knows about one admitted worker when it chooses. */
export interface WorkerCandidate {
  id: string
  /** The provider running the worker (lower-case or checksummed: compared case-insensitively). */
  provider: string
  /** Model ids the worker serves now. */
  models: ReadonlySet<Hex>
  /** Asking price per unit, token base units. */
  pricePerUnit: bigint
  stake: bigint
  concurrency: number
  /** Requests sent and not yet answered. */
  outstanding: number
  /** Moving average of request round trips; null before the first. */
  latencyEmaMs: number | null
  /** Epoch ms since which the worker has held requests without answering any; null while it holds none. */
  unansweredSince: number | null
  /** Epoch ms until which the worker gets no requests after repeated errors. */
  suspendedUntil: number
}

export interface SelectionPolicy {
  /** Requests a worker may hold beyond its concurrency before it counts as busy. */
  maxQueuePerWorker: number
  /** Assumed round trip of a worker not measured yet: optimistic, so new workers get tried. */
  unmeasuredLatencyMs: number
  /** A worker holding requests is stalled once it has answered nothing for this many times its latency average… */
  stallFactor: number
  /** …and at least this long, so a garbage-collection pause on a fast worker is not a stall. */
  stallFloorMs: number
}

/** How latency judges a worker, beside the queue and timeout settings the router takes from config. */
export const LATENCY_DEFAULTS = {
  // A round trip four times the average is rare for a healthy worker (batching waits are part of the average).
  stallFactor: 4,
  // Longer than a major GC pause or an event-loop stall on a loaded host; far shorter than an attempt timeout.
  stallFloorMs: 250,
  // An attempt may take ten times what the worker's average and queue predict before another worker is tried.
  timeoutFactor: 10,
} as const

export type WorkerChoice<W extends WorkerCandidate = WorkerCandidate> =
  | { kind: 'chosen'; worker: W; expectedMs: number }
  | { kind: 'no-model' }
  | { kind: 'price-too-low'; lowestPrice: bigint }
  | { kind: 'busy'; holders: number; suspended: number }

/**
 * How much a worker is to be trusted with one more request, best first: it answers normally; it was measured but
 * has gone quiet while holding requests (stalled); it was never measured and its first request is still unanswered.
 */
function standing(
  c: WorkerCandidate,
  now: number,
  policy: SelectionPolicy,
  preferMeasured: boolean,
): { rank: number; latencyMs: number } {
  const silentMs = c.unansweredSince === null ? 0 : Math.max(0, now - c.unansweredSince)
  if (c.latencyEmaMs === null) {
    // Trying a new worker once is how it gets measured; sending it more before it answers is a bet on a stranger,
    // and so is a retry: a rogue that reconnects under a fresh id would otherwise take every request's second chance.
    if (c.outstanding === 0) return { rank: preferMeasured ? 1 : 0, latencyMs: policy.unmeasuredLatencyMs }
    return { rank: 2, latencyMs: silentMs }
  }
  const stalled = silentMs > Math.max(policy.stallFloorMs, policy.stallFactor * c.latencyEmaMs)
  // A worker that has answered nothing for `silentMs` is not expected to be faster than that.
  return { rank: stalled ? 1 : 0, latencyMs: Math.max(c.latencyEmaMs, silentMs) }
}

/**
 * Chooses a worker for one request (DESIGN.md "How the router chooses", after Livepeer's AI gateway): keep the
 * workers that hold the model, ask at most `maxPricePerUnit` and were not tried yet; among those not suspended and
 * under capacity, prefer workers of providers not tried for this request (another worker of the same provider often
 * shares its fault), then workers answering normally over stalled or unproven ones, then the lowest expected
 * completion time (latency average scaled by queue depth), with stake as the tie-breaker, so a well-staked worker
 * wins among equally fast ones. Says which filter left nobody.
 */
export function selectWorker<W extends WorkerCandidate>({
  candidates,
  modelId,
  maxPricePerUnit,
  exclude = new Set(),
  avoidProviders = new Set(),
  preferMeasured = false,
  now,
  policy,
}: {
  candidates: readonly W[]
  /** Null when no model is needed (training): every candidate qualifies. */
  modelId: Hex | null
  maxPricePerUnit?: bigint
  /** Worker ids never to choose (tried already for this request). */
  exclude?: ReadonlySet<string>
  /** Lower-case provider addresses to choose only when no other provider's worker is available. */
  avoidProviders?: ReadonlySet<string>
  /** Rank workers never measured behind measured ones that answer normally (for retries). */
  preferMeasured?: boolean
  now: number
  policy: SelectionPolicy
}): WorkerChoice<W> {
  const holders = candidates.filter((c) => (modelId === null || c.models.has(modelId)) && !exclude.has(c.id))
  if (holders.length === 0) return { kind: 'no-model' }
  const affordable = maxPricePerUnit === undefined ? holders : holders.filter((c) => c.pricePerUnit <= maxPricePerUnit)
  if (affordable.length === 0) {
    return {
      kind: 'price-too-low',
      lowestPrice: holders.reduce((m, c) => (c.pricePerUnit < m ? c.pricePerUnit : m), holders[0]?.pricePerUnit ?? 0n),
    }
  }
  let best: { worker: W; expectedMs: number; rank: number } | undefined
  let suspended = 0
  for (const c of affordable) {
    if (c.suspendedUntil > now) {
      suspended++
      continue
    }
    if (c.outstanding >= c.concurrency + policy.maxQueuePerWorker) continue
    const { rank: trust, latencyMs } = standing(c, now, policy, preferMeasured)
    const rank = trust + (avoidProviders.has(c.provider.toLowerCase()) ? 3 : 0)
    // Requests beyond the worker's concurrency wait for a slot: each full round of slots adds one latency.
    const expectedMs = latencyMs * (1 + Math.floor(c.outstanding / Math.max(1, c.concurrency)))
    if (
      !best ||
      rank < best.rank ||
      (rank === best.rank &&
        (expectedMs < best.expectedMs || (expectedMs === best.expectedMs && c.stake > best.worker.stake)))
    ) {
      best = { worker: c, expectedMs, rank }
    }
  }
  if (!best) return { kind: 'busy', holders: affordable.length, suspended }
  return { kind: 'chosen', worker: best.worker, expectedMs: best.expectedMs }
}

/**
 * How long one attempt on the chosen worker may take: `factor` times its expected completion time, at least
 * `floorMs`, when its latency is measured; `unmeasuredMs` when it is not (nothing known yet); never past the
 * request's deadline (`byDeadline` says the deadline was the bound).
 */
export function attemptTimeout({
  measured,
  expectedMs,
  remainingMs,
  policy,
}: {
  measured: boolean
  expectedMs: number
  remainingMs: number
  policy: { factor: number; floorMs: number; unmeasuredMs: number }
}): { ms: number; byDeadline: boolean } {
  const budget = measured ? Math.max(policy.floorMs, Math.ceil(policy.factor * expectedMs)) : policy.unmeasuredMs
  const remaining = Math.max(1, Math.floor(remainingMs))
  return remaining < budget ? { ms: remaining, byDeadline: true } : { ms: budget, byDeadline: false }
}

/** Exponential moving average of latencies; `weight` is the share of the newest sample. */
export function nextLatencyEma({
  previous,
  sampleMs,
  weight = 0.2,
}: {
  previous: number | null
  sampleMs: number
  weight?: number
}) {
  return previous === null ? sampleMs : previous * (1 - weight) + sampleMs * weight
}
