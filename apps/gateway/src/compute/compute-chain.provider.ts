import type { Config } from '../config/config'
import { ComputeChain } from './compute-chain'
import type { ComputeIdentity } from './compute-identity'

/** The gateway's chain writer, when it has a key and an RPC; `current` is undefined otherwise. */
export interface ComputeChainRef {
  current?: ComputeChain
}

export const COMPUTE_CHAIN = Symbol('COMPUTE_CHAIN')

export function computeChainRef({
  config,
  identity,
}: {
  config: Config
  identity: ComputeIdentity | null
}): ComputeChainRef {
  const rpcUrl = config.indexer.rpcUrls[0]
  if (!identity || identity.ephemeral || !rpcUrl) return {}
  return { current: new ComputeChain(identity, rpcUrl) }
}
