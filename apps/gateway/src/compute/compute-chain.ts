import { jobMarketAbi, providerStakingAbi } from '@computegraph/contracts/abis'
import type { ComputeReceipt } from '@computegraph/contracts/receipts'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from 'viem'
import type { ComputeIdentity } from './compute-identity'

// ProviderStaking.slash takes what there is (stake, then pending unstake) up to the amount asked.
const EVERYTHING = 2n ** 255n

/**
 * The gateway's transactions: assigning on-chain jobs (dispatcher role), relaying workers' receipts, and slashing
 * workers caught returning wrong outputs (arbiter and slasher roles). Each waits for its receipt.
 */
export class ComputeChain {
  private readonly wallet: WalletClient
  private readonly client: PublicClient
  // One transaction at a time: the nonce of the gateway's account stays in order.
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly identity: ComputeIdentity,
    rpcUrl: string,
  ) {
    this.wallet = createWalletClient({ account: identity.account, transport: http(rpcUrl) })
    this.client = createPublicClient({ transport: http(rpcUrl) })
  }

  get address(): Address {
    return this.identity.account.address
  }

  private send(write: () => Promise<Hex>): Promise<Hex> {
    const next = this.queue.then(async () => {
      const hash = await write()
      const receipt = await this.client.waitForTransactionReceipt({ hash, pollingInterval: 50 })
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
      return hash
    })
    this.queue = next.catch(() => {})
    return next
  }

  private get contracts() {
    return this.identity.deployment.contracts
  }

  assignJob({ jobId, provider }: { jobId: bigint; provider: Address }): Promise<Hex> {
    return this.send(() =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address: this.contracts.JobMarket.address,
        abi: jobMarketAbi,
        functionName: 'assignJob',
        args: [jobId, provider],
      }),
    )
  }

  submitResult({ receipt, signature }: { receipt: ComputeReceipt; signature: Hex }): Promise<Hex> {
    return this.send(() =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address: this.contracts.JobMarket.address,
        abi: jobMarketAbi,
        functionName: 'submitResult',
        args: [receipt, signature],
      }),
    )
  }

  /** Slashes `amount` (0: everything it has) from a provider, citing the evidence hash; to the reward pool. */
  slash({ provider, amount, evidenceHash }: { provider: Address; amount: bigint; evidenceHash: Hex }): Promise<Hex> {
    return this.send(() =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address: this.contracts.ProviderStaking.address,
        abi: providerStakingAbi,
        functionName: 'slash',
        args: [provider, amount === 0n ? EVERYTHING : amount, evidenceHash, this.contracts.RewardPool.address],
      }),
    )
  }

  /** Disputes a completed on-chain job and upholds it: the provider is slashed and the client refunded. */
  async disputeJob({ jobId, amount, evidenceHash }: { jobId: bigint; amount: bigint; evidenceHash: Hex }) {
    const address = this.contracts.JobMarket.address
    await this.send(() =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address,
        abi: jobMarketAbi,
        functionName: 'disputeJob',
        args: [jobId, evidenceHash],
      }),
    )
    return this.send(() =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address,
        abi: jobMarketAbi,
        functionName: 'resolveDispute',
        args: [jobId, true, amount === 0n ? EVERYTHING : amount],
      }),
    )
  }
}
