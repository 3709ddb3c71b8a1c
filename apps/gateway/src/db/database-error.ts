import { DrizzleQueryError } from 'drizzle-orm'

// Enough of a failed statement to tell which one it was; its parameters (JSON batches) are left out.
const MAX_QUERY_CHARS = 200

/**
 * An error as one log line that keeps what the database said. drizzle's own message is the statement and its
 * parameters ("Failed query: …"); the database's message, SQLSTATE and detail are only on its cause.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const parts = [headline(error)]
  const seen = new Set<unknown>([error])
  for (let cause = error.cause; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause)
    const { code, detail } = cause as { code?: unknown; detail?: unknown }
    let text = cause.message
    if (typeof code === 'string' && code) text += ` (SQLSTATE ${code})`
    if (typeof detail === 'string' && detail) text += ` ${detail}`
    parts.push(text)
  }
  return parts.join(': ')
}

function headline(error: Error): string {
  if (!(error instanceof DrizzleQueryError)) return error.message
  const query = error.query.replace(/\s+/g, ' ').trim()
  return `Failed query: ${query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query}`
}
