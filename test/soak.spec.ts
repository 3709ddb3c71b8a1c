import { describe, expect, it } from 'vitest'
import { runSoak, SHORT_SOAK } from './soak/soak'

// The bounded form of `npm run soak`: the same driver and invariants over 100 s of demo uptime, one of each
// disruption and rogue, so that CI fails when the system as a whole stops holding.
describe('the demo under restarts, kills, rogue workers and bursts', () => {
  it('keeps every invariant of the soak test', async () => {
    const report = await runSoak({
      ...SHORT_SOAK,
      // The dashboard's browser test rebuilds the page beside this one; its queries are checked all the same.
      pageCheck: false,
      keepOnFailure: false,
      // No event starts after this, so the test ends within its timeout however slowly the demo restarts.
      maxWallMs: 300_000,
      log: () => {},
    })
    console.log(report.table)
    expect(report.failures, report.table).toBe(0)
  }, 600_000)
})
