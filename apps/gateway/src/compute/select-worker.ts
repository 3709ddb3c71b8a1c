import type { Hex } from 'viem'

/** What the router knows about one admitted worker when it chooses. */
export interface WorkerCandidate {
  id: string
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
  /** Epoch ms until which the worker gets no requests after repeated errors. */
  suspendedUntil: number
}

export interface SelectionPolicy {
  /** Requests a worker may hold beyond its concurrency before it counts as busy. */
  maxQueuePerWorker: number
  /** Assumed round trip of a worker not measured yet: optimistic, so new workers get tried. */
  unmeasuredLatencyMs: number
}

export type WorkerChoice<W extends WorkerCandidate = WorkerCandidate> =
  | { kind: 'chosen'; worker: W; expectedMs: number }
  | { kind: 'no-model' }
  | { kind: 'price-too-low'; lowestPrice: bigint }
  | { kind: 'busy'; holders: number; suspended: number }

/**
 * Chooses a worker for one request (DESIGN.md "How the router chooses", after Livepeer's AI gateway): keep the
 * workers that hold the model, ask at most `maxPricePerUnit` and were not tried yet; among those not suspended and
 * under capacity, pick the lowest expected completion time (latency average scaled by queue depth), with stake as
 * the tie-breaker, so a well-staked worker wins among equally fast ones. Says which filter left nobody.
 */
export function selectWorker<W extends WorkerCandidate>({
  candidates,
  modelId,
  maxPricePerUnit,
  exclude = new Set(),
  now,
  policy,
}: {
  candidates: readonly W[]
  /** Null when no model is needed (training): every candidate qualifies. */
  modelId: Hex | null
  maxPricePerUnit?: bigint
  exclude?: ReadonlySet<string>
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
  let best: { worker: W; expectedMs: number } | undefined
  let suspended = 0
  for (const c of affordable) {
    if (c.suspendedUntil > now) {
      suspended++
      continue
    }
    if (c.outstanding >= c.concurrency + policy.maxQueuePerWorker) continue
    const latency = c.latencyEmaMs ?? policy.unmeasuredLatencyMs
    // Requests beyond the worker's concurrency wait for a slot: each full round of slots adds one latency.
    const expectedMs = latency * (1 + Math.floor(c.outstanding / Math.max(1, c.concurrency)))
    if (!best || expectedMs < best.expectedMs || (expectedMs === best.expectedMs && c.stake > best.worker.stake)) {
      best = { worker: c, expectedMs }
    }
  }
  if (!best) return { kind: 'busy', holders: affordable.length, suspended }
  return { kind: 'chosen', ...best }
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
