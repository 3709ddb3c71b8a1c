import { providerStakingAbi } from '@computegraph/contracts/abis'
import type { Deployment } from '@computegraph/contracts/deploy'
import { createPublicClient, http } from 'viem'
import { NonRetryableError } from '../../common/errors'
import type { VerificationLookups } from './verify-receipt'

/** The RPC serves another chain than the deployment names. */
export class ChainMismatchError extends NonRetryableError {
  override name = 'ChainMismatchError'
}

export const CHAIN_SOURCE = 'the chain'

/**
 * Lookups over an RPC alone, for verifying without a gateway database: the signer's registration and stake from
 * ProviderStaking at the block asked for (the node must still hold that block's state, as anvil and archive nodes
 * do), or at its latest block. No receipt store and no indexed jobs: replay and job checks are skipped.
 */
export async function chainLookups({
  rpcUrl,
  deployment,
}: {
  rpcUrl: string
  deployment: Deployment
}): Promise<VerificationLookups> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 2, timeout: 10_000 }) })
  const chainId = await client.getChainId()
  if (chainId !== deployment.chainId) {
    throw new ChainMismatchError(`RPC chain id ${chainId} does not match the deployment's ${deployment.chainId}`)
  }
  const staking = deployment.contracts.ProviderStaking.address
  return {
    stakeAt: async ({ provider, block }) => {
      const latest = await client.getBlockNumber()
      if (block !== undefined && block > latest) return null
      const at = { blockNumber: block ?? latest }
      const [p, minStake] = await Promise.all([
        client.readContract({
          ...at,
          address: staking,
          abi: providerStakingAbi,
          functionName: 'getProvider',
          args: [provider],
        }),
        client.readContract({ ...at, address: staking, abi: providerStakingAbi, functionName: 'minStake' }),
      ])
      return {
        registered: p.registered,
        stake: p.stake,
        minStake,
        block: { number: at.blockNumber },
        source: CHAIN_SOURCE,
      }
    },
  }
}
