import { BadUserInputError, NotFoundError, UnavailableError } from './graphql.errors'
import type { BlockScope } from './sql/block-range'

/** `block: Block_height`, as the client sent it. */
export interface BlockHeight {
  number?: number | null
  hash?: string | null
  number_gte?: number | null
}

/** The indexer's committed cursor. */
export interface Head {
  chainId: number
  number: bigint
  hash: string
  timestamp: bigint
}

export interface ResolvedBlock {
  scope: BlockScope
  /** Null only when nothing has been indexed yet. */
  number: bigint | null
  /** Known when the block was named by hash or is the head; graph-node leaves it null for `{number}`. */
  hash: string | null
  isHead: boolean
}

/**
 * Turns `block: {number | hash | number_gte}` into the block to read at, failing the way graph-node does for blocks
 * not indexed yet. `freshHead` re-reads the cursor before refusing a block past a cached head.
 */
export async function resolveBlock({
  height,
  head,
  freshHead,
  blockByHash,
  deployment,
}: {
  height: BlockHeight | null | undefined
  head: Head | null
  freshHead: () => Promise<Head | null>
  blockByHash: (hash: string) => Promise<{ number: bigint } | null>
  deployment: string
}): Promise<ResolvedBlock> {
  const atHead = (h: Head | null): ResolvedBlock =>
    h
      ? { scope: h.number, number: h.number, hash: h.hash, isHead: true }
      : { scope: 'latest', number: null, hash: null, isHead: true }
  const given = Object.entries(height ?? {}).filter(([, v]) => v !== null && v !== undefined)
  if (given.length === 0) return atHead(head)
  if (given.length > 1) {
    throw new BadUserInputError(
      `block must name one of number, hash or number_gte, got ${given.map(([k]) => k).join(' and ')}`,
    )
  }
  const notYet = (h: Head | null, n: bigint, arg: string) =>
    new UnavailableError(
      h
        ? `block.${arg}: subgraph ${deployment} has only indexed up to block number ${h.number} and data for block number ${n} is therefore not yet available`
        : `block.${arg}: subgraph ${deployment} has not indexed any block yet`,
    )
  const upTo = async (n: bigint, arg: string): Promise<Head> => {
    if (head && head.number >= n) return head
    const fresh = await freshHead()
    if (!fresh || fresh.number < n) throw notYet(fresh, n, arg)
    return fresh
  }
  const blockNumber = (value: unknown, arg: string) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new BadUserInputError(`block.${arg} must be a non-negative block number, got ${JSON.stringify(value)}`)
    }
    return BigInt(value)
  }
  if (height?.number !== null && height?.number !== undefined) {
    const n = blockNumber(height.number, 'number')
    const h = await upTo(n, 'number')
    return { scope: n, number: n, hash: n === h.number ? h.hash : null, isHead: n === h.number }
  }
  if (height?.number_gte !== null && height?.number_gte !== undefined) {
    return atHead(await upTo(blockNumber(height.number_gte, 'number_gte'), 'number_gte'))
  }
  const hash = height?.hash as string
  const block = await blockByHash(hash)
  if (!block) throw new NotFoundError(`block.hash: no block with hash ${hash} has been indexed`)
  const h = await upTo(block.number, 'hash')
  return { scope: block.number, number: block.number, hash, isHead: block.number === h.number }
}
