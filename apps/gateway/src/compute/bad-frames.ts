/** What one admitted worker has sent that could not be used, in the current window. */
export interface BadFrameTally {
  windowStartedAt: number
  /** Frames that did not parse, this window: the ones that get a worker dropped. */
  malformed: number
  /** Warnings logged this window. */
  logged: number
  /** Warnings not logged since the last one that was: the next logged line reports them. */
  suppressed: number
}

export interface BadFrameLimits {
  maxBadFrames: number
  badFrameWindowMs: number
  badFrameLogsPerWindow: number
}

export const emptyBadFrameTally = (now: number): BadFrameTally => ({
  windowStartedAt: now,
  malformed: 0,
  logged: 0,
  suppressed: 0,
})

/**
 * Counts one unusable frame from an admitted worker (`malformed`: it did not parse; otherwise it answered nothing
 * pending, which a late answer after a timeout also does) and says whether to log it, how many warnings the log line
 * stands for since the last one, and whether the worker has sent so much garbage that it must go. A worker can then
 * neither flood the log nor keep a connection it only fills with garbage.
 */
export function tallyBadFrame({
  tally,
  malformed,
  now,
  limits,
}: {
  tally: BadFrameTally
  malformed: boolean
  now: number
  limits: BadFrameLimits
}): { tally: BadFrameTally; log: boolean; suppressed: number; drop: boolean } {
  const current =
    now - tally.windowStartedAt >= limits.badFrameWindowMs
      ? { ...emptyBadFrameTally(now), suppressed: tally.suppressed }
      : tally
  const counted = malformed ? current.malformed + 1 : current.malformed
  const drop = counted > limits.maxBadFrames
  if (current.logged < limits.badFrameLogsPerWindow) {
    return {
      tally: { ...current, malformed: counted, logged: current.logged + 1, suppressed: 0 },
      log: true,
      suppressed: current.suppressed,
      drop,
    }
  }
  return {
    tally: { ...current, malformed: counted, suppressed: current.suppressed + 1 },
    log: false,
    suppressed: 0,
    drop,
  }
}
