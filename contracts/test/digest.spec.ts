import { type Address, getAddress, type Hex, hashDomain, keccak256, sliceHex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobMarketAbi } from '../generated/abis'
import { type LocalNetwork, startLocalNetwork } from '../src/fixture'
import { type ComputeReceipt, computeReceiptTypes, hashReceipt } from '../src/receipts'

const UINT64_MAX = 2n ** 64n - 1n
const UINT256_MAX = 2n ** 256n - 1n

/** Deterministic pseudo-random receipts, so a failure names a seed that reproduces it. */
function randomReceipt(seed: number): ComputeReceipt {
  let counter = 0
  const next = (): Hex => keccak256(toHex(`receipt ${seed} field ${counter++}`))
  const uint = (max: bigint) => BigInt(next()) & max
  const address = (): Address => getAddress(sliceHex(next(), 12))
  return {
    requestHash: next(),
    outputHash: next(),
    modelId: next(),
    runtimeId: next(),
    requester: address(),
    worker: address(),
    jobId: uint(UINT256_MAX),
    units: uint(UINT64_MAX),
    price: uint(UINT256_MAX),
    issuedAt: uint(UINT64_MAX),
    expiresAt: uint(UINT64_MAX),
    nonce: uint(UINT256_MAX),
  }
}

const extremes: ComputeReceipt[] = [
  {
    requestHash: `0x${'00'.repeat(32)}`,
    outputHash: `0x${'00'.repeat(32)}`,
    modelId: `0x${'00'.repeat(32)}`,
    runtimeId: `0x${'00'.repeat(32)}`,
    requester: '0x0000000000000000000000000000000000000000',
    worker: '0x0000000000000000000000000000000000000000',
    jobId: 0n,
    units: 0n,
    price: 0n,
    issuedAt: 0n,
    expiresAt: 0n,
    nonce: 0n,
  },
  {
    requestHash: `0x${'ff'.repeat(32)}`,
    outputHash: `0x${'ff'.repeat(32)}`,
    modelId: `0x${'ff'.repeat(32)}`,
    runtimeId: `0x${'ff'.repeat(32)}`,
    requester: getAddress(`0x${'ff'.repeat(20)}`),
    worker: getAddress(`0x${'ff'.repeat(20)}`),
    jobId: UINT256_MAX,
    units: UINT64_MAX,
    price: UINT256_MAX,
    issuedAt: UINT64_MAX,
    expiresAt: UINT64_MAX,
    nonce: UINT256_MAX,
  },
]

// Two chains: the domain binds the chain id, so parity on one id alone could hide a hard-coded one.
describe.each([31337, 8453])('receipt digests on chain %i', (chainId) => {
  let net: LocalNetwork
  beforeAll(async () => {
    net = await startLocalNetwork({ anvil: { chainId } })
  })
  afterAll(() => net?.stop())

  const onChainDigest = (receipt: ComputeReceipt) =>
    net.publicClient.readContract({
      address: net.addresses.jobMarket,
      abi: jobMarketAbi,
      functionName: 'hashReceipt',
      args: [receipt],
    })

  it.each(Array.from({ length: 8 }, (_, i) => i))(
    'JobMarket.hashReceipt equals the TypeScript digest for random receipt #%i',
    async (seed) => {
      const receipt = randomReceipt(seed)
      expect(await onChainDigest(receipt)).toBe(hashReceipt({ domain: net.domain, receipt }))
    },
  )

  it.each([0, 1])(
    'JobMarket.hashReceipt equals the TypeScript digest for all-zero / all-max fields (#%i)',
    async (i) => {
      const receipt = extremes[i] as ComputeReceipt
      expect(await onChainDigest(receipt)).toBe(hashReceipt({ domain: net.domain, receipt }))
    },
  )

  it('domainSeparator equals the EIP-712 domain hash viem computes for the receipt domain', async () => {
    const onChain = await net.publicClient.readContract({
      address: net.addresses.jobMarket,
      abi: jobMarketAbi,
      functionName: 'domainSeparator',
    })
    expect(net.domain.chainId).toBe(chainId)
    const types = {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
    } as const
    expect(onChain).toBe(hashDomain({ domain: { ...net.domain, chainId: BigInt(net.domain.chainId) }, types }))
  })

  it('RECEIPT_TYPEHASH is the type string of the TypeScript ComputeReceipt type, field for field', async () => {
    const onChain = await net.publicClient.readContract({
      address: net.addresses.jobMarket,
      abi: jobMarketAbi,
      functionName: 'RECEIPT_TYPEHASH',
    })
    const fields = computeReceiptTypes.ComputeReceipt.map((f) => `${f.type} ${f.name}`).join(',')
    expect(onChain).toBe(keccak256(toHex(`ComputeReceipt(${fields})`)))
  })
})
