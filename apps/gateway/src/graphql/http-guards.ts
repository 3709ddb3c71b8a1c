import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GraphqlConfig } from '../config/config'
import { type HttpErrorShape, httpErrorResponse } from './error-formatter'
import { type ClientError, HttpRequestError, RateLimitedError } from './graphql.errors'
import { clientKey, TokenBuckets } from './rate-limit'

type Next = (error?: unknown) => void
/** `originalUrl`: express's full path, before a mount point (`/v1`) was stripped from `url`. */
export type Middleware = (
  req: IncomingMessage & { body?: unknown; originalUrl?: string },
  res: ServerResponse,
  next: Next,
) => void

/**
 * Bytes of an oversized body read and thrown away before the 413 goes out: a client still uploading when the
 * socket closes sees EPIPE instead of the answer (Node's http client does). Past this the upload is no honest
 * mistake, and the connection is cut.
 */
export const MAX_DISCARDED_BYTES = 32 * 1024 * 1024

/** Answers a client error in the endpoint's shape; `close` ends the connection after the answer. */
export function replyError({
  res,
  error,
  status,
  shape,
  close = false,
}: {
  res: ServerResponse
  error: ClientError
  status?: number
  shape: HttpErrorShape
  close?: boolean
}) {
  const { status: code, body } = httpErrorResponse({ error, status, shape })
  if (res.headersSent) return
  res.statusCode = code
  res.setHeader('content-type', 'application/json; charset=utf-8')
  if (close) res.setHeader('connection', 'close')
  if (error instanceof RateLimitedError) res.setHeader('retry-after', String(error.retryAfterSeconds))
  res.end(JSON.stringify(body))
}

/** Whether a Content-Type names JSON (`application/json`, `application/*+json`), parameters aside. */
export function isJsonContentType(type: string | undefined): boolean {
  const essence = (type ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  return essence === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence)
}

/** Answers 429 with RATE_LIMITED once a client has used its bucket. */
export function rateLimit({
  config,
  shape = 'graphql',
}: {
  config: GraphqlConfig['rateLimit']
  shape?: HttpErrorShape
}): Middleware {
  const buckets = new TokenBuckets({ perSecond: config.perSecond, burst: config.burst })
  const apiKeys = new Set(config.apiKeys)
  return (req, res, next) => {
    const taken = buckets.take(
      clientKey({ req, apiKeyHeader: config.apiKeyHeader, apiKeys, trustProxyHops: config.trustProxyHops }),
    )
    if (taken.ok) return next()
    const error = new RateLimitedError(
      `Rate limit exceeded: ${config.perSecond} requests per second per client, bursts of ${config.burst}; ` +
        `retry in ${taken.retryAfterSeconds} s`,
      taken.retryAfterSeconds,
    )
    replyError({ res, error, shape })
  }
}

/**
 * Reads a JSON body of at most `maxBytes`, counting as it streams (a missing or false Content-Length changes
 * nothing), and answers 413 past it, once the rest of the upload has been read and discarded. It runs before the
 * framework's own parser, whose 100 kB cap and HTML errors would otherwise apply; that parser skips a request whose
 * body was consumed here. With `requireJson`, a POST of any other type is refused with 415: form posts and
 * `text/plain` are what another site's page can send without a CORS preflight.
 */
export function jsonBody({
  maxBytes,
  setting = 'GRAPHQL_MAX_BODY_BYTES',
  shape = 'graphql',
  requireJson = false,
}: {
  maxBytes: number
  /** The variable that sets the limit, named in the error. */
  setting?: string
  shape?: HttpErrorShape
  requireJson?: boolean
}): Middleware {
  const tooLarge = (declared?: number) =>
    new HttpRequestError(
      `Request body is ${declared === undefined ? '' : `${declared} bytes, `}over the ${maxBytes}-byte limit (${setting})`,
      'BODY_TOO_LARGE',
    )
  return (req, res, next) => {
    if (req.method !== 'POST') return next()
    const type = req.headers['content-type']
    if (!isJsonContentType(type)) {
      if (!requireJson) return next()
      const error = new HttpRequestError(
        `This endpoint takes a JSON body with content-type: application/json, got ${type === undefined ? 'none' : JSON.stringify(type)}`,
        'UNSUPPORTED_MEDIA_TYPE',
      )
      // The body is left unread: answering and closing costs nothing, and the client must change its request.
      return replyError({ res, error, status: 415, shape, close: true })
    }
    const declared = Number(req.headers['content-length'])
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    let over = declared > maxBytes
    const refuse = () =>
      replyError({ res, error: tooLarge(declared > maxBytes ? declared : undefined), status: 413, shape, close: true })
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > maxBytes) over = true
      if (over) chunks.length = 0
      else chunks.push(chunk)
      if (size > maxBytes + MAX_DISCARDED_BYTES) {
        done = true
        refuse()
        req.destroy()
      }
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
      if (over) return refuse()
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') {
        req.body = {}
        return next()
      }
      try {
        req.body = JSON.parse(text)
      } catch (error) {
        return replyError({
          res,
          error: new HttpRequestError(`Request body is not valid JSON: ${(error as Error).message}`, 'BAD_JSON'),
          status: 400,
          shape,
        })
      }
      next()
    })
  }
}

/**
 * Refuses a path with a malformed percent-escape (`%E0%A4%A`) in the endpoint's shape, before the router's own
 * decoding fails on it and the framework answers in its default shape.
 */
export function wellFormedPath({ shape }: { shape: HttpErrorShape }): Middleware {
  return (req, res, next) => {
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0] ?? ''
    try {
      decodeURIComponent(path)
    } catch {
      const error = new HttpRequestError(
        `The request path has a malformed percent-escape: ${path.slice(0, 200)}`,
        'BAD_PATH',
      )
      return replyError({ res, error, shape })
    }
    next()
  }
}
