/** A failure a retry can cure: a timeout, a reset connection, a busy worker. */
export class RetryableError extends Error {
  override name = 'RetryableError'
}

/** A failure a retry cannot cure: a bad argument, an unknown model, an invalid signature. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })

/** Exponential backoff with full jitter, capped. */
export function backoffMs({
  attempt,
  baseMs = 100,
  capMs = 10_000,
}: {
  attempt: number
  baseMs?: number
  capMs?: number
}) {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt)
}
