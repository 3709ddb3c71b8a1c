import type { Hex, Log } from 'viem'
import { backoffMs, NonRetryableError, RetryableError, sleep } from '../common/errors'

/** The provider refused a getLogs range as too wide or too many results; split it and ask again. */
export class RangeTooLargeError extends RetryableError {
  override name = 'RangeTooLargeError'
  constructor(
    message: string,
    /** A range the provider suggested, when its message names one. */
    readonly suggested?: { from: bigint; to: bigint },
  ) {
    super(message)
  }
}

export class RpcError extends RetryableError {
  override name = 'RpcError'
  constructor(
    message: string,
    readonly code?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

export interface BlockHeader {
  number: bigint
  hash: string
  parentHash: string
  timestamp: bigint
}

export type RawLog = Log<bigint, number, false> & { blockTimestamp?: bigint }

export interface ChainRpcOptions {
  urls: string[]
  timeoutMs: number
  maxAttempts: number
  signal?: AbortSignal
  onRetry?: (info: { method: string; attempt: number; url: string; error: Error }) => void
}

// Messages providers use to refuse a wide eth_getLogs (geth, erigon, alchemy, infura, quicknode, anvil).
const RANGE_ERRORS =
  /range|too many|more than \d+|limit exceeded|response size|exceed|query timeout|log response size|block range/i

const big = (h: string) => BigInt(h)
const hex = (n: bigint) => `0x${n.toString(16)}`

function formatLog(raw: Record<string, string | string[] | boolean>): RawLog {
  return {
    address: raw.address as Hex,
    topics: raw.topics as [Hex, ...Hex[]],
    data: raw.data as Hex,
    blockHash: raw.blockHash as Hex,
    blockNumber: big(raw.blockNumber as string),
    logIndex: Number(raw.logIndex),
    transactionHash: raw.transactionHash as Hex,
    transactionIndex: Number(raw.transactionIndex),
    removed: raw.removed === true,
    ...(raw.blockTimestamp ? { blockTimestamp: big(raw.blockTimestamp as string) } : {}),
  }
}

function formatBlock(raw: Record<string, string> | null, what: string): BlockHeader {
  if (!raw?.number || !raw.hash || !raw.parentHash || !raw.timestamp) throw new RpcError(`block ${what} not found`)
  return { number: big(raw.number), hash: raw.hash, parentHash: raw.parentHash, timestamp: big(raw.timestamp) }
}

/** JSON-RPC over HTTP with timeouts, retries with backoff and fallback across URLs. */
export class ChainRpc {
  private urlIndex = 0
  private id = 0

  constructor(private readonly options: ChainRpcOptions) {
    if (options.urls.length === 0) throw new NonRetryableError('no RPC URL configured')
  }

  get url(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length] as string
  }

  /** One request, retried on retryable errors; a range error is returned at once so the caller can split. */
  async request<T>(method: string, params: unknown[]): Promise<T> {
    let lastError: Error | undefined
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      if (this.options.signal?.aborted) throw new RetryableError(`${method} aborted`)
      const url = this.url
      try {
        return await this.send<T>(url, method, params)
      } catch (error) {
        if (error instanceof RangeTooLargeError || error instanceof NonRetryableError) throw error
        lastError = error as Error
        this.options.onRetry?.({ method, attempt, url, error: lastError })
        this.urlIndex++
        await sleep(backoffMs({ attempt, baseMs: 50, capMs: 5_000 }), this.options.signal)
      }
    }
    throw new RpcError(
      `${method} failed after ${this.options.maxAttempts} attempts: ${lastError?.message}`,
      undefined,
      { cause: lastError },
    )
  }

  private async send<T>(url: string, method: string, params: unknown[]): Promise<T> {
    const id = ++this.id
    let response: Response
    const signal = this.options.signal
      ? AbortSignal.any([this.options.signal, AbortSignal.timeout(this.options.timeoutMs)])
      : AbortSignal.timeout(this.options.timeoutMs)
    let text: string
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal,
      })
      text = await response.text()
    } catch (cause) {
      const reason =
        (cause as Error).name === 'TimeoutError' ? `timed out after ${this.options.timeoutMs} ms` : String(cause)
      throw new RpcError(`${method} to ${url}: ${reason}`, undefined, { cause })
    }
    if (response.status === 429 || response.status >= 500) {
      throw new RpcError(`${method} to ${url}: HTTP ${response.status}`, response.status)
    }
    let body: { result?: T; error?: { code: number; message: string } }
    try {
      body = JSON.parse(text)
    } catch (cause) {
      // A truncated or garbled body: the transfer broke, so asking again can help.
      throw new RpcError(`${method} to ${url}: invalid JSON response (${text.length} bytes)`, undefined, { cause })
    }
    if (body.error) {
      const msg = body.error.message ?? 'unknown error'
      if (method === 'eth_getLogs' && (body.error.code === -32005 || RANGE_ERRORS.test(msg))) {
        const m = /\[(0x[0-9a-f]+),\s*(0x[0-9a-f]+)\]/i.exec(msg)
        throw new RangeTooLargeError(msg, m ? { from: big(m[1] as string), to: big(m[2] as string) } : undefined)
      }
      throw new RpcError(`${method}: ${msg}`, body.error.code)
    }
    if (!('result' in body)) throw new RpcError(`${method} to ${url}: response has neither result nor error`)
    return body.result as T
  }

  async chainId(): Promise<number> {
    return Number(await this.request<string>('eth_chainId', []))
  }

  async clientVersion(): Promise<string> {
    return this.request<string>('web3_clientVersion', []).catch(() => 'unknown')
  }

  async getBlock(tag: bigint | 'latest' | 'finalized' | 'safe'): Promise<BlockHeader> {
    const param = typeof tag === 'bigint' ? hex(tag) : tag
    return formatBlock(await this.request('eth_getBlockByNumber', [param, false]), String(tag))
  }

  async getBlockByHash(hash: string): Promise<BlockHeader | undefined> {
    const raw = await this.request<Record<string, string> | null>('eth_getBlockByHash', [hash, false])
    return raw ? formatBlock(raw, hash) : undefined
  }

  async getLogs(args: { addresses: string[]; fromBlock: bigint; toBlock: bigint }): Promise<RawLog[]> {
    const raw = await this.request<Record<string, string>[]>('eth_getLogs', [
      { address: args.addresses, fromBlock: hex(args.fromBlock), toBlock: hex(args.toBlock) },
    ])
    if (!Array.isArray(raw)) throw new RpcError('eth_getLogs returned a non-array result')
    return raw.map(formatLog)
  }

  async getLogsByBlockHash(args: { addresses: string[]; blockHash: string }): Promise<RawLog[]> {
    const raw = await this.request<Record<string, string>[]>('eth_getLogs', [
      { address: args.addresses, blockHash: args.blockHash },
    ])
    if (!Array.isArray(raw)) throw new RpcError('eth_getLogs returned a non-array result')
    return raw.map(formatLog)
  }
}
