import { describe, expect, it } from 'vitest'
import { type BadFrameTally, emptyBadFrameTally, tallyBadFrame } from './bad-frames'

const limits = { maxBadFrames: 3, badFrameWindowMs: 60_000, badFrameLogsPerWindow: 2 }
const T0 = 1_800_000_000_000

/** Feeds `n` frames at `now` and returns the verdicts. */
function feed(tally: BadFrameTally, n: number, { malformed = true, now = T0 } = {}) {
  const verdicts: ReturnType<typeof tallyBadFrame>[] = []
  let t = tally
  for (let i = 0; i < n; i++) {
    const v = tallyBadFrame({ tally: t, malformed, now, limits })
    verdicts.push(v)
    t = v.tally
  }
  return { tally: t, verdicts }
}

describe('tallyBadFrame', () => {
  it('logs the first warnings of a window and stays quiet after them', () => {
    const { verdicts } = feed(emptyBadFrameTally(T0), 3)
    expect(verdicts.map((v) => v.log)).toEqual([true, true, false])
  })

  it('reports in the next window how many warnings it kept quiet', () => {
    const { tally } = feed(emptyBadFrameTally(T0), 4, { malformed: false })
    const next = tallyBadFrame({ tally, malformed: false, now: T0 + 60_000, limits })
    expect(next).toMatchObject({ log: true, suppressed: 2, drop: false })
    expect(next.tally.suppressed).toBe(0)
  })

  it('drops a worker past the malformed frames a window allows', () => {
    const { verdicts } = feed(emptyBadFrameTally(T0), 4)
    expect(verdicts.map((v) => v.drop)).toEqual([false, false, false, true])
  })

  it('never drops a worker for answers that match nothing pending', () => {
    const { verdicts } = feed(emptyBadFrameTally(T0), 50, { malformed: false })
    expect(verdicts.some((v) => v.drop)).toBe(false)
  })

  it('starts the count afresh in each window', () => {
    const { tally } = feed(emptyBadFrameTally(T0), 3)
    expect(tallyBadFrame({ tally, malformed: true, now: T0 + 60_000, limits }).drop).toBe(false)
  })
})
