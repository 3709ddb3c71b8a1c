import { describe, expect, it } from 'vitest'
import { startDemoWorkers } from './demo-workers'
import { startLifeline } from './lifeline'

describe('the demo workers', () => {
  it('stop without a warning when stopped while still loading', async () => {
    const lifeline = startLifeline()
    const warnings: string[] = []
    const logger = { log: () => {}, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) }
    // No gateway listens here: the workers never get past loading and connecting before the stop.
    const workers = startDemoWorkers({ workersUrl: 'ws://127.0.0.1:9/workers', count: 2, lifeline, logger })
    try {
      await new Promise((r) => setTimeout(r, 100))
      await workers.stop()
    } finally {
      lifeline.close()
    }
    expect(warnings).toEqual([])
  }, 30_000)
})
