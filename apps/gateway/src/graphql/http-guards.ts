import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GraphqlConfig } from '../config/config'
import { httpErrorResponse } from './error-formatter'
import { BadUserInputError, type ClientError, RateLimitedError } from './graphql.errors'
import { clientKey, TokenBuckets } from './rate-limit'

type Next = (error?: unknown) => void
export type Middleware = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void

function reply(res: ServerResponse, error: ClientError, status?: number) {
  const { status: code, body } = httpErrorResponse({ error, status })
  if (res.headersSent) return
  res.statusCode = code
  res.setHeader('content-type', 'application/json; charset=utf-8')
  if (error instanceof RateLimitedError) res.setHeader('retry-after', String(error.retryAfterSeconds))
  res.end(JSON.stringify(body))
}

/** Answers 429 with RATE_LIMITED once a client has used its bucket. */
export function rateLimit({ config }: { config: GraphqlConfig['rateLimit'] }): Middleware {
  const buckets = new TokenBuckets({ perSecond: config.perSecond, burst: config.burst })
  const apiKeys = new Set(config.apiKeys)
  return (req, res, next) => {
    const taken = buckets.take(
      clientKey({ req, apiKeyHeader: config.apiKeyHeader, apiKeys, trustProxyHops: config.trustProxyHops }),
    )
    if (taken.ok) return next()
    reply(
      res,
      new RateLimitedError(
        `Rate limit exceeded: ${config.perSecond} requests per second per client, bursts of ${config.burst}; ` +
          `retry in ${taken.retryAfterSeconds} s`,
        taken.retryAfterSeconds,
      ),
    )
  }
}

/**
 * Reads a JSON body of at most `maxBytes`, counting as it streams (a missing or false Content-Length changes
 * nothing), and answers 413 past it. It runs before the framework's own parser, whose 100 kB cap and HTML errors
 * would otherwise apply; that parser skips a request whose body was consumed here.
 */
export function jsonBody({
  maxBytes,
  setting = 'GRAPHQL_MAX_BODY_BYTES',
}: {
  maxBytes: number
  /** The variable that sets the limit, named in the error. */
  setting?: string
}): Middleware {
  const tooLarge = (size: string) =>
    new BadUserInputError(`Request body is ${size}, over the ${maxBytes}-byte limit (${setting})`)
  return (req, res, next) => {
    const type = req.headers['content-type'] ?? ''
    if (req.method !== 'POST' || !/\bjson\b/i.test(type)) return next()
    const declared = Number(req.headers['content-length'])
    if (declared > maxBytes) {
      res.setHeader('connection', 'close')
      return reply(res, tooLarge(`${declared} bytes`), 413)
    }
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > maxBytes) {
        done = true
        res.setHeader('connection', 'close')
        reply(res, tooLarge('larger than that'), 413)
        req.pause()
        return
      }
      chunks.push(chunk)
    })
    req.on('error', (error) => {
      if (!done) {
        done = true
        next(error)
      }
    })
    req.on('end', () => {
      if (done) return
      done = true
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') {
        req.body = {}
        return next()
      }
      try {
        req.body = JSON.parse(text)
      } catch (error) {
        return reply(res, new BadUserInputError(`Request body is not valid JSON: ${(error as Error).message}`), 400)
      }
      next()
    })
  }
}
