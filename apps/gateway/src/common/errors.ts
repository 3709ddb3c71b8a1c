/** A failure a retry can cure: a timeout, a reset connection, a busy worker. */
export class RetryableError extends Error {
  override name = 'RetryableError'
}

/** A failure a retry cannot cure: a bad argument, an unknown model, an invalid signature. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const onAbort = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
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
