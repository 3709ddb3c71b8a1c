/** Machine-readable reasons a task failed; sent to the gateway in `error.code`. */
export type WorkerErrorCode =
  | 'BAD_INPUT'
  | 'UNKNOWN_MODEL'
  | 'MODEL_INTEGRITY'
  | 'BAD_MESSAGE'
  | 'BUSY'
  | 'PRICE_TOO_LOW'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'SHUTTING_DOWN'
  | 'INTERNAL'

/** A failure that another attempt (later, or on another worker) may not repeat: busy, timeout, shutdown. */
export class RetryableError extends Error {
  override name = 'RetryableError'
  readonly retryable = true
  readonly code: WorkerErrorCode

  constructor(message: string, options: { code?: WorkerErrorCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = options.code ?? 'INTERNAL'
  }
}

/** A failure that the same request will always hit: bad input, unknown model, corrupt model file. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
  readonly retryable = false
  readonly code: WorkerErrorCode

  constructor(message: string, options: { code?: WorkerErrorCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = options.code ?? 'BAD_INPUT'
  }
}

/** Describes any thrown value as the protocol's `error` fields; unknown failures count as retryable. */
export function describeError(error: unknown): { code: WorkerErrorCode; message: string; retryable: boolean } {
  if (error instanceof RetryableError || error instanceof NonRetryableError) {
    return { code: error.code, message: error.message, retryable: error.retryable }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'INTERNAL', message: `internal error: ${message}`, retryable: true }
}
