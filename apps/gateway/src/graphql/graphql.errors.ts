import { NonRetryableError, RetryableError } from '../common/errors'
import { GraphQLError } from './graphql-js'

/** The request is wrong: a bad argument, a value out of range, a limit exceeded. */
export class BadUserInputError extends NonRetryableError {
  override name = 'BadUserInputError'
  readonly code = 'BAD_USER_INPUT'
}

/** Why an HTTP request was refused before any endpoint read it; /v1 answers it as `error.reason`. */
export type HttpRefusal = 'BAD_JSON' | 'UNSUPPORTED_MEDIA_TYPE' | 'BODY_TOO_LARGE' | 'BAD_PATH'

/** A request refused at the HTTP layer (not JSON, too large, a malformed path), with the refusal as its reason. */
export class HttpRequestError extends BadUserInputError {
  override name = 'HttpRequestError'
  constructor(
    message: string,
    readonly reason: HttpRefusal,
  ) {
    super(message)
  }
}

/** Something the request names does not exist (a block hash the gateway never saw). */
export class NotFoundError extends NonRetryableError {
  override name = 'NotFoundError'
  readonly code = 'NOT_FOUND'
}

/** The request contradicts an earlier one it names (a request id reused for a different request). */
export class ConflictError extends NonRetryableError {
  override name = 'ConflictError'
  readonly code = 'CONFLICT'
}

/** The client sent more than its share; it may retry after `retryAfterSeconds`. */
export class RateLimitedError extends RetryableError {
  override name = 'RateLimitedError'
  readonly code = 'RATE_LIMITED'
  readonly reason = 'RATE_LIMITED'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
}

/** The data is not there yet (a block not indexed) or the database is unreachable or too slow. */
export class UnavailableError extends RetryableError {
  override name = 'UnavailableError'
  readonly code = 'UNAVAILABLE'
}

export type ClientError = BadUserInputError | NotFoundError | ConflictError | RateLimitedError | UnavailableError

export const isClientError = (e: unknown): e is ClientError =>
  e instanceof BadUserInputError ||
  e instanceof NotFoundError ||
  e instanceof ConflictError ||
  e instanceof RateLimitedError ||
  e instanceof UnavailableError

/** A production limit the operation exceeds; raised by validation rules, reported as BAD_USER_INPUT. */
export class LimitExceededError extends GraphQLError {
  override name = 'LimitExceededError'
}
