import type { IncomingMessage } from 'node:http'

const MAX_CLIENTS = 100_000 // buckets kept in memory; idle ones are dropped first, so only a flood reaches it

/** A token bucket per client: `perSecond` tokens refill continuously up to `burst`; each request takes one. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(private readonly o: { perSecond: number; burst: number; now?: () => number; maxClients?: number }) {}

  /** Takes a token for `key`; when none is left, says how many seconds until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.o.now ? this.o.now() : performance.now()
    let bucket = this.buckets.get(key)
    if (bucket) {
      bucket.tokens = Math.min(this.o.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.o.perSecond)
      bucket.at = now
      // Re-inserting keeps the map in least-recently-used order for eviction.
      this.buckets.delete(key)
    } else {
      this.evict(now)
      bucket = { tokens: this.o.burst, at: now }
    }
    this.buckets.set(key, bucket)
    if (bucket.tokens < 1) return { ok: false, retryAfterSeconds: Math.ceil((1 - bucket.tokens) / this.o.perSecond) }
    bucket.tokens -= 1
    return { ok: true }
  }

  get size() {
    return this.buckets.size
  }

  private evict(now: number) {
    const max = this.o.maxClients ?? MAX_CLIENTS
    if (this.buckets.size < max) return
    const refillMs = (this.o.burst / this.o.perSecond) * 1000
    for (const [key, b] of this.buckets) {
      if (now - b.at >= refillMs) this.buckets.delete(key)
    }
    // Still full of active clients: drop the least recently seen.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < max) break
      this.buckets.delete(key)
    }
  }
}

/**
 * Who a request counts against: a configured API key when it carries one, else its IP. Behind `trustProxyHops`
 * proxies the IP is read from X-Forwarded-For, counting from the right so clients cannot forge it.
 */
export function clientKey({
  req,
  apiKeyHeader,
  apiKeys,
  trustProxyHops,
}: {
  req: IncomingMessage
  apiKeyHeader: string
  apiKeys: ReadonlySet<string>
  trustProxyHops: number
}): string {
  const key = req.headers[apiKeyHeader]
  if (typeof key === 'string' && apiKeys.has(key)) return `key:${key}`
  if (trustProxyHops > 0) {
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const ip = forwarded[forwarded.length - trustProxyHops]
    if (ip) return `ip:${ip}`
  }
  return `ip:${req.socket.remoteAddress ?? 'unknown'}`
}
