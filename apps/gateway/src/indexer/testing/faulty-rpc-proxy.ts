import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FaultyProxyOptions {
  target: string
  /** Share of requests that fail: a third each way by default (5xx, delay past the timeout, truncated body). */
  faultRate: number
  delayMs: number
  /** eth_getLogs ranges wider than this are refused the way hosted providers refuse them. */
  maxLogRange?: number
  seed?: number
  /** Listen on this port (to bring a "dead" RPC back at the same URL). */
  port?: number
}

/**
 * An HTTP JSON-RPC proxy for tests that breaks requests on purpose: it answers 500, stalls past the client's
 * timeout, or cuts the response body short; and it refuses wide eth_getLogs ranges.
 */
export async function startFaultyProxy(o: FaultyProxyOptions) {
  let state = o.seed ?? 1
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
  const stats = { requests: 0, failed: 0, delayed: 0, truncated: 0, rangeRefused: 0 }
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = ''
      req.on('data', (c) => {
        data += c
      })
      req.on('end', () => resolve(data))
    })
  const server: Server = createServer(async (req, res) => {
    const text = await body(req)
    stats.requests++
    const call = JSON.parse(text) as { id: number; method: string; params: [{ fromBlock?: string; toBlock?: string }] }
    if (call.method === 'eth_getLogs' && o.maxLogRange !== undefined) {
      const p = call.params[0]
      if (p.fromBlock && p.toBlock && BigInt(p.toBlock) - BigInt(p.fromBlock) + 1n > BigInt(o.maxLogRange)) {
        stats.rangeRefused++
        res.setHeader('content-type', 'application/json')
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: call.id,
            error: { code: -32005, message: `block range too large, max ${o.maxLogRange} blocks` },
          }),
        )
        return
      }
    }
    const fault = random() < o.faultRate ? Math.floor(random() * 3) : -1
    if (fault === 0) {
      stats.failed++
      res.statusCode = 500
      res.end('upstream failure')
      return
    }
    if (fault === 1) {
      stats.delayed++
      await new Promise((r) => setTimeout(r, o.delayMs))
    }
    let upstream: string
    try {
      const r = await fetch(o.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
      upstream = await r.text()
    } catch {
      res.statusCode = 502
      res.end()
      return
    }
    if (res.destroyed) return
    res.setHeader('content-type', 'application/json')
    if (fault === 2) {
      stats.truncated++
      res.end(upstream.slice(0, Math.floor(upstream.length / 2)))
      return
    }
    res.end(upstream)
  })
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
