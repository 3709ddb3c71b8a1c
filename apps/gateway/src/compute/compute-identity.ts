import { type Deployment, readDeployment } from '@computegraph/contracts/deploy'
import { type ReceiptDomain, receiptDomain } from '@computegraph/contracts/receipts'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import type { Config } from '../config/config'

/** Who the gateway is to workers and in attestations: the chain and JobMarket it serves, and its key. */
export interface ComputeIdentity {
  deployment: Deployment
  domain: ReceiptDomain
  account: PrivateKeyAccount
  /** No GATEWAY_PRIVATE_KEY: attestations are signed by a key that lives as long as the process. */
  ephemeral: boolean
}

export const COMPUTE_IDENTITY = Symbol('COMPUTE_IDENTITY')

/** Null when there is no deployment to serve (no DEPLOYMENT_FILE): the router is then off. */
export async function loadComputeIdentity(config: Config): Promise<ComputeIdentity | null> {
  const file = config.indexer.deploymentFile
  if (!config.compute.enabled || !file) return null
  const deployment = await readDeployment(file)
  const key = config.compute.gatewayPrivateKey
  return {
    deployment,
    domain: receiptDomain({ chainId: deployment.chainId, jobMarket: deployment.contracts.JobMarket.address }),
    account: privateKeyToAccount(key ?? generatePrivateKey()),
    ephemeral: !key,
  }
}
