import { unwrapResolverError } from '@apollo/server/errors'
import { type ClientError, isClientError, LimitExceededError } from './graphql.errors'
import { GraphQLError, type GraphQLFormattedError } from './graphql-js'

export const INTERNAL_MESSAGE = 'Internal server error'

const HTTP_STATUS: Record<ClientError['code'], number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
}

/** Why, beside the code: compute errors say which of several causes happened (WORKERS_BUSY, PRICE_TOO_LOW…). */
const reasonOf = (error: ClientError): string | undefined =>
  'reason' in error && typeof error.reason === 'string' ? error.reason : undefined

// graphql-js's own wording (with its typo) when `parseOptions.maxTokens` stops the parser.
const TOKEN_LIMIT = /Document contains more th[ae]t (\d+) tokens/

/**
 * Whether an error is ours rather than the client's: anything thrown that is neither one of the gateway's client
 * errors nor a GraphQLError that graphql-js or Apollo raised for a malformed request.
 */
export function isInternalError(error: unknown): boolean {
  if (isClientError(unwrapResolverError(error))) return false
  if (!(error instanceof GraphQLError)) return true
  const cause = error.originalError
  return cause !== undefined && cause !== null && !(cause instanceof GraphQLError) && !isClientError(cause)
}

/**
 * The one place errors become responses: client errors keep their message and get their code
 * (BAD_USER_INPUT, NOT_FOUND, RATE_LIMITED, UNAVAILABLE); graphql's parse and validation errors keep theirs; anything
 * else becomes "Internal server error". Only `message`, `locations`, `path` and `extensions.code` leave the server,
 * so no stack trace or driver detail ever does.
 */
export function formatGraphqlError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const where = {
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  }
  const original = unwrapResolverError(error)
  if (isClientError(original)) {
    // Compute errors say which of several causes behind one code happened (WORKERS_BUSY, NO_WORKER_FOR_MODEL…).
    const reason = reasonOf(original)
    return { message: original.message, ...where, extensions: { code: original.code, ...(reason ? { reason } : {}) } }
  }
  const cause = error instanceof GraphQLError ? error.originalError : undefined
  if (error instanceof LimitExceededError || cause instanceof LimitExceededError) {
    return { message: formatted.message, ...where, extensions: { code: 'BAD_USER_INPUT' } }
  }
  const tokens = TOKEN_LIMIT.exec(formatted.message)
  if (tokens) {
    return {
      message: `Query has more than ${tokens[1]} tokens, the limit (GRAPHQL_MAX_TOKENS)`,
      ...where,
      extensions: { code: 'BAD_USER_INPUT' },
    }
  }
  if (isInternalError(error))
    return { message: INTERNAL_MESSAGE, ...where, extensions: { code: 'INTERNAL_SERVER_ERROR' } }
  const code = formatted.extensions?.code
  return { message: formatted.message, ...where, extensions: typeof code === 'string' ? { code } : {} }
}

/** The HTTP status of a client error: 400, 404, 409, 429 or 503 by its code. */
export const httpStatusOf = (error: ClientError): number => HTTP_STATUS[error.code]

/** /v1's error body: `{ error: { code, reason, message } }`. */
export const restErrorBody = (error: ClientError) => ({
  error: { code: error.code, reason: reasonOf(error), message: error.message },
})

/** The two shapes of an error answered over HTTP: GraphQL's `{ errors }` on /graphql, `{ error }` on /v1. */
export type HttpErrorShape = 'graphql' | 'rest'

/**
 * A client error answered outside GraphQL's execution (body too large, rate limited, a /v1 request refused): its
 * HTTP status and a body in the shape of the endpoint that answers, `{ errors: [{ message, extensions }] }` on
 * /graphql or `{ error: { code, reason, message } }` on /v1.
 */
export function httpErrorResponse({
  error,
  status = httpStatusOf(error),
  shape = 'graphql',
}: {
  error: ClientError
  status?: number
  shape?: HttpErrorShape
}) {
  if (shape === 'rest') return { status, body: restErrorBody(error) }
  return { status, body: { errors: [{ message: error.message, extensions: { code: error.code } }] } }
}
