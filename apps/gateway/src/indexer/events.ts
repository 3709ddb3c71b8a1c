import { jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '@computegraph/contracts'
import { type Abi, type AbiEvent, decodeEventLog, type Hex, type Log, toEventSelector } from 'viem'

/** The contracts whose events the gateway indexes; the token is left out (any ERC-20 in production). */
export const INDEXED_ABIS = {
  ProviderStaking: providerStakingAbi,
  JobMarket: jobMarketAbi,
  RewardPool: rewardPoolAbi,
} as const
export type IndexedContract = keyof typeof INDEXED_ABIS

export interface ChainEvent {
  chainId: number
  contract: IndexedContract
  address: string
  name: string
  /** uint/int wider than 48 bits as bigint, narrower as number, addresses and bytes as lower-case hex. */
  args: Record<string, unknown>
  blockNumber: bigint
  blockHash: string
  logIndex: number
  transactionHash: string
  transactionIndex: number
  timestamp: bigint
}

interface EventSpec {
  contract: IndexedContract
  abi: Abi
  item: AbiEvent
}

const SPECS = new Map<string, EventSpec>()
for (const [contract, abi] of Object.entries(INDEXED_ABIS) as [IndexedContract, Abi][]) {
  for (const item of abi) {
    if (item.type === 'event') SPECS.set(toEventSelector(item), { contract, abi: [item], item })
  }
}

const wideInt = (type: string) => {
  const m = /^u?int([0-9]*)$/.exec(type)
  return m ? Number(m[1] || 256) > 48 : false
}
const narrowInt = (type: string) => /^u?int([0-9]*)$/.test(type) && !wideInt(type)

function normalise(item: AbiEvent, args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const input of item.inputs) {
    const name = input.name as string
    const v = args[name]
    // Addresses and bytes are stored lower-case so ids match; a string argument (a metadata URI) stays as sent.
    if (typeof v === 'string')
      out[name] = input.type === 'address' || input.type.startsWith('bytes') ? v.toLowerCase() : v
    else if (narrowInt(input.type) && typeof v === 'bigint') out[name] = Number(v)
    else out[name] = v
  }
  return out
}

/** Decodes a raw log of an indexed contract; returns undefined for logs of events we don't know. */
export function decodeLog(
  log: Log<bigint, number, false> & { blockTimestamp?: Hex | bigint },
  chainId: number,
  timestamp: bigint,
): ChainEvent | undefined {
  const topic0 = log.topics[0]
  const spec = topic0 ? SPECS.get(topic0) : undefined
  if (!spec) return undefined
  const decoded = decodeEventLog({ abi: spec.abi, data: log.data, topics: log.topics, strict: true })
  return {
    chainId,
    contract: spec.contract,
    address: log.address.toLowerCase(),
    name: decoded.eventName as unknown as string,
    args: normalise(spec.item, decoded.args as unknown as Record<string, unknown>),
    blockNumber: log.blockNumber,
    blockHash: log.blockHash.toLowerCase(),
    logIndex: log.logIndex,
    transactionHash: log.transactionHash.toLowerCase(),
    transactionIndex: log.transactionIndex,
    timestamp,
  }
}

/** Arguments as stored in chain_event.args: bigints become decimal strings. */
export function argsToJson(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'bigint' ? v.toString() : v
  return out
}

/** Restores stored arguments to their decoded types, using the event's ABI. */
export function argsFromJson(contract: IndexedContract, name: string, json: Record<string, unknown>) {
  const item = (INDEXED_ABIS[contract] as Abi).find((x): x is AbiEvent => x.type === 'event' && x.name === name)
  if (!item) throw new Error(`no event ${contract}.${name} in the ABI`)
  const out: Record<string, unknown> = {}
  for (const input of item.inputs) {
    const v = json[input.name as string]
    out[input.name as string] = wideInt(input.type) ? BigInt(v as string) : v
  }
  return out
}
