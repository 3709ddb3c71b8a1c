import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import {
  attemptTimeout,
  LATENCY_DEFAULTS,
  nextLatencyEma,
  type SelectionPolicy,
  selectWorker,
  type WorkerCandidate,
} from './select-worker'

const MODEL_A = `0x${'a'.repeat(64)}` as Hex
const MODEL_B = `0x${'b'.repeat(64)}` as Hex
const NOW = 1_800_000_000_000
const policy: SelectionPolicy = {
  maxQueuePerWorker: 2,
  unmeasuredLatencyMs: 1,
  stallFactor: LATENCY_DEFAULTS.stallFactor,
  stallFloorMs: LATENCY_DEFAULTS.stallFloorMs,
}

function candidate(id: string, over: Partial<WorkerCandidate> = {}): WorkerCandidate {
  return {
    id,
    provider: `0x${id.padStart(40, '0')}`,
    models: new Set([MODEL_A]),
    pricePerUnit: 1n,
    stake: 1_000n,
    concurrency: 1,
    outstanding: 0,
    latencyEmaMs: 10,
    unansweredSince: null,
    suspendedUntil: 0,
    ...over,
  }
}

const select = (candidates: WorkerCandidate[], extra: Partial<Parameters<typeof selectWorker>[0]> = {}) =>
  selectWorker({ candidates, modelId: MODEL_A, now: NOW, policy, ...extra })

describe('selectWorker', () => {
  it('says no-model when no connected worker holds the model', () => {
    expect(select([candidate('w1', { models: new Set([MODEL_B]) })])).toEqual({ kind: 'no-model' })
    expect(select([])).toEqual({ kind: 'no-model' })
  })

  it('says price-too-low with the lowest asking price when every holder asks more than the cap', () => {
    const choice = select(
      [
        candidate('w1', { pricePerUnit: 7n }),
        candidate('w2', { pricePerUnit: 5n }),
        candidate('w3', { pricePerUnit: 2n, models: new Set([MODEL_B]) }),
      ],
      { maxPricePerUnit: 4n },
    )
    expect(choice).toEqual({ kind: 'price-too-low', lowestPrice: 5n })
  })

  it('takes a worker asking exactly the cap', () => {
    const choice = select([candidate('w1', { pricePerUnit: 4n })], { maxPricePerUnit: 4n })
    expect(choice).toMatchObject({ kind: 'chosen', worker: { id: 'w1' } })
  })

  it('says busy when every affordable holder is at its concurrency plus the allowed queue', () => {
    const choice = select([
      candidate('w1', { concurrency: 1, outstanding: 3 }),
      candidate('w2', { concurrency: 2, outstanding: 4 }),
    ])
    expect(choice).toEqual({ kind: 'busy', holders: 2, suspended: 0 })
  })

  it('counts suspended workers in a busy answer and skips them until the cool-down ends', () => {
    const workers = [candidate('w1', { suspendedUntil: NOW + 1 }), candidate('w2', { outstanding: 3 })]
    expect(select(workers)).toEqual({ kind: 'busy', holders: 2, suspended: 1 })
    expect(select(workers, { now: NOW + 1 })).toMatchObject({ kind: 'chosen', worker: { id: 'w1' } })
  })

  it('still takes a worker with room in its queue beyond its concurrency', () => {
    const choice = select([candidate('w1', { concurrency: 1, outstanding: 2 })])
    expect(choice).toMatchObject({ kind: 'chosen', worker: { id: 'w1' }, expectedMs: 30 })
  })

  it('chooses the lowest expected completion time: latency scaled by full rounds of queued requests', () => {
    const choice = select([
      candidate('slow', { latencyEmaMs: 25 }),
      candidate('fast-but-queued', { latencyEmaMs: 10, concurrency: 1, outstanding: 2 }),
      candidate('fast', { latencyEmaMs: 12, concurrency: 4, outstanding: 3 }),
    ])
    expect(choice).toEqual({ kind: 'chosen', worker: expect.objectContaining({ id: 'fast' }), expectedMs: 12 })
  })

  it('tries an unmeasured worker at the optimistic latency of the policy', () => {
    const choice = select([candidate('measured', { latencyEmaMs: 3 }), candidate('new', { latencyEmaMs: null })])
    expect(choice).toMatchObject({ kind: 'chosen', worker: { id: 'new' }, expectedMs: 1 })
  })

  it('breaks ties on expected time by stake, whatever the order of the candidates', () => {
    const low = candidate('low', { stake: 1_000n })
    const high = candidate('high', { stake: 5_000n })
    expect(select([low, high])).toMatchObject({ worker: { id: 'high' } })
    expect(select([high, low])).toMatchObject({ worker: { id: 'high' } })
  })

  it('skips excluded workers, and says no-model when only excluded workers hold the model', () => {
    const workers = [candidate('w1', { latencyEmaMs: 1 }), candidate('w2', { latencyEmaMs: 50 })]
    expect(select(workers, { exclude: new Set(['w1']) })).toMatchObject({ kind: 'chosen', worker: { id: 'w2' } })
    expect(select(workers, { exclude: new Set(['w1', 'w2']) })).toEqual({ kind: 'no-model' })
  })

  it('ranks a worker that has answered nothing for much longer than its latency behind one answering normally', () => {
    const slow = candidate('slow', { latencyEmaMs: 200 })
    const quiet = (silentMs: number) =>
      candidate('fast', { latencyEmaMs: 10, concurrency: 4, outstanding: 1, unansweredSince: NOW - silentMs })
    expect(select([quiet(100), slow])).toMatchObject({ kind: 'chosen', worker: { id: 'fast' }, expectedMs: 100 })
    expect(select([quiet(1_000), slow])).toMatchObject({ kind: 'chosen', worker: { id: 'slow' } })
  })

  it('expects a worker holding requests to take at least as long as it has been silent', () => {
    const quiet = candidate('quiet', { latencyEmaMs: 10, concurrency: 4, outstanding: 1, unansweredSince: NOW - 200 })
    expect(select([quiet])).toMatchObject({ kind: 'chosen', expectedMs: 200 })
    expect(select([quiet, candidate('other', { latencyEmaMs: 150 })])).toMatchObject({ worker: { id: 'other' } })
  })

  it('gives a new worker one request, then prefers measured workers until it answers', () => {
    const measured = candidate('measured', { latencyEmaMs: 500, outstanding: 3, concurrency: 4 })
    const fresh = candidate('new', { latencyEmaMs: null })
    expect(select([measured, fresh])).toMatchObject({ worker: { id: 'new' } })
    const probing = { ...fresh, outstanding: 1, unansweredSince: NOW }
    expect(select([measured, probing])).toMatchObject({ worker: { id: 'measured' } })
  })

  it('on a retry, prefers a measured worker to one never measured, and still takes the new one alone', () => {
    const measured = candidate('measured', { latencyEmaMs: 500 })
    const fresh = candidate('new', { latencyEmaMs: null })
    expect(select([measured, fresh], { preferMeasured: true })).toMatchObject({ worker: { id: 'measured' } })
    expect(select([fresh], { preferMeasured: true })).toMatchObject({ worker: { id: 'new' } })
  })

  it('still takes a stalled or unproven worker when no other has room', () => {
    const stalled = candidate('stalled', { concurrency: 2, outstanding: 1, unansweredSince: NOW - 5_000 })
    const probing = candidate('new', { latencyEmaMs: null, outstanding: 1, unansweredSince: NOW })
    expect(select([stalled])).toMatchObject({ kind: 'chosen', worker: { id: 'stalled' }, expectedMs: 5_000 })
    expect(select([probing])).toMatchObject({ kind: 'chosen', worker: { id: 'new' } })
    expect(select([probing, stalled])).toMatchObject({ worker: { id: 'stalled' } })
  })

  it('avoids the providers already tried while a worker of another provider is available, however it ranks', () => {
    const tried = candidate('1', { latencyEmaMs: 1, stake: 9_000n })
    const sibling = candidate('2', { latencyEmaMs: 1, provider: tried.provider })
    const other = candidate('3', { latencyEmaMs: null, outstanding: 1, unansweredSince: NOW - 60_000 })
    const avoidProviders = new Set([tried.provider.toLowerCase()])
    expect(select([tried, sibling, other], { avoidProviders })).toMatchObject({ worker: { id: '3' } })
    expect(select([tried, sibling], { avoidProviders })).toMatchObject({ worker: { id: '1' } })
  })

  it('takes any worker when no model is needed (training)', () => {
    const choice = select([candidate('w1', { models: new Set() })], { modelId: null })
    expect(choice).toMatchObject({ kind: 'chosen', worker: { id: 'w1' } })
  })
})

describe('attemptTimeout', () => {
  const timeoutPolicy = { factor: 10, floorMs: 1_000, unmeasuredMs: 5_000 }
  const timeout = (over: Partial<Parameters<typeof attemptTimeout>[0]>) =>
    attemptTimeout({ measured: true, expectedMs: 10, remainingMs: 60_000, policy: timeoutPolicy, ...over })

  it('gives a measured worker ten times its expected time, and never less than the floor', () => {
    expect(timeout({ expectedMs: 300 })).toEqual({ ms: 3_000, byDeadline: false })
    expect(timeout({ expectedMs: 20 })).toEqual({ ms: 1_000, byDeadline: false })
  })

  it('follows a slow worker past the budget of an unmeasured one', () => {
    expect(timeout({ expectedMs: 2_000 })).toEqual({ ms: 20_000, byDeadline: false })
  })

  it('gives a worker not measured yet the fixed budget', () => {
    expect(timeout({ measured: false, expectedMs: 1 })).toEqual({ ms: 5_000, byDeadline: false })
  })

  it("ends every attempt at the request's deadline and says so", () => {
    expect(timeout({ expectedMs: 2_000, remainingMs: 7_500.8 })).toEqual({ ms: 7_500, byDeadline: true })
    expect(timeout({ remainingMs: -3 })).toEqual({ ms: 1, byDeadline: true })
  })
})

describe('nextLatencyEma', () => {
  it('starts at the first sample and then moves a fifth of the way towards each new one', () => {
    expect(nextLatencyEma({ previous: null, sampleMs: 40 })).toBe(40)
    expect(nextLatencyEma({ previous: 40, sampleMs: 20 })).toBe(36)
    expect(nextLatencyEma({ previous: 40, sampleMs: 20, weight: 0.5 })).toBe(30)
  })
})
