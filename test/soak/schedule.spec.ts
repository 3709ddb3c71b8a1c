import { describe, expect, it } from 'vitest'
import { soakSchedule } from './schedule'
import { SHORT_SOAK, SOAK_DEFAULTS } from './soak'

const short = {
  seed: SHORT_SOAK.seed as number,
  durationMs: SHORT_SOAK.durationMs as number,
  disruptEveryMs: SHORT_SOAK.disruptEveryMs as number,
  trafficEveryMs: SHORT_SOAK.trafficEveryMs as number,
}
const kinds = (events: ReturnType<typeof soakSchedule>) =>
  new Set(
    events.map(({ event: e }) =>
      e.kind === 'rogue' ? `rogue ${e.rogue}` : e.kind === 'burst' ? `burst wait=${e.wait}` : e.kind,
    ),
  )

describe('the soak schedule', () => {
  it('gives the bounded soak every disruption, every rogue and both kinds of burst', () => {
    expect([...kinds(soakSchedule(short))].sort()).toEqual([
      'burst wait=false',
      'burst wait=true',
      'ctrl-c',
      'kill-gateway',
      'kill-worker',
      'reads',
      'rogue garbage',
      'rogue silent',
      'rogue wrong',
    ])
  })

  it('is the same for the same seed and differs for another', () => {
    const long = { ...short, durationMs: SOAK_DEFAULTS.durationMs, disruptEveryMs: SOAK_DEFAULTS.disruptEveryMs }
    expect(soakSchedule(long)).toEqual(soakSchedule(long))
    expect(soakSchedule({ ...long, seed: 2 })).not.toEqual(soakSchedule(long))
  })

  it('keeps every event inside the soak, in time order', () => {
    const events = soakSchedule(short)
    expect(events.every((e, i) => e.at < short.durationMs && (i === 0 || (events[i - 1]?.at ?? 0) <= e.at))).toBe(true)
  })
})
