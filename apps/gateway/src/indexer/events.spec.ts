import { providerStakingAbi } from '@computegraph/contracts'
import { encodeAbiParameters, encodeEventTopics, type Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { decodeLog } from './events'
import type { RawLog } from './rpc'

// viem hands decoded addresses back checksummed (mixed case) whatever the log held.
const PROVIDER = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'

function registeredLog(metadataURI: string): RawLog {
  return {
    address: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    topics: encodeEventTopics({
      abi: providerStakingAbi,
      eventName: 'ProviderRegistered',
      args: { provider: PROVIDER },
    }) as [Hex, ...Hex[]],
    data: encodeAbiParameters([{ type: 'string' }], [metadataURI]),
    blockHash: `0x${'AB'.repeat(32)}`,
    blockNumber: 7n,
    logIndex: 0,
    transactionHash: `0x${'CD'.repeat(32)}`,
    transactionIndex: 0,
    removed: false,
  }
}

describe('decodeLog', () => {
  it('lower-cases addresses and hashes, so ids match however a node spells them', () => {
    const e = decodeLog(registeredLog('ipfs://x'), 31337, 1n)
    expect(e?.args.provider).toBe(PROVIDER)
    expect(e?.blockHash).toBe(`0x${'ab'.repeat(32)}`)
    expect(e?.transactionHash).toBe(`0x${'cd'.repeat(32)}`)
  })

  it('keeps string arguments exactly as sent, even when they start with 0x', () => {
    expect(decodeLog(registeredLog('0xABC/Provider'), 31337, 1n)?.args.metadataURI).toBe('0xABC/Provider')
  })

  it('ignores logs of events the indexed contracts do not declare', () => {
    const log = { ...registeredLog('x'), topics: [`0x${'11'.repeat(32)}`] as [Hex] }
    expect(decodeLog(log, 31337, 1n)).toBeUndefined()
  })
})
