import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Refresher } from './refresher'

describe('Refresher', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('runs a task once for a burst of requests, and again no sooner than the interval', async () => {
    const runs: number[] = []
    const refresher = new Refresher({ stats: async () => void runs.push(Date.now()) }, 1_000, () => {})
    for (let i = 0; i < 10; i++) refresher.request('stats')
    await vi.advanceTimersByTimeAsync(0)
    expect(runs).toHaveLength(1)
    refresher.request('stats')
    refresher.request('stats')
    await vi.advanceTimersByTimeAsync(999)
    expect(runs).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toHaveLength(2)
  })

  it('reports a failing task and keeps running the others', async () => {
    const failed: string[] = []
    let ran = false
    const refresher = new Refresher(
      {
        broken: async () => {
          throw new Error('gateway down')
        },
        fine: async () => {
          ran = true
        },
      },
      1_000,
      (name) => failed.push(name),
    )
    refresher.request('broken', 'fine')
    await vi.advanceTimersByTimeAsync(0)
    expect(failed).toEqual(['broken'])
    expect(ran).toBe(true)
  })
})
