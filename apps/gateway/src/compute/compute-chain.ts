import { jobMarketAbi, providerStakingAbi } from '@computegraph/contracts/abis'
import type { ComputeReceipt } from '@computegraph/contracts/receipts'
import {
  formatMinedRevert,
  formatRevert,
  type Revert,
  replayRevert,
  revertOfError,
} from '@computegraph/contracts/revert'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from 'viem'
import { NonRetryableError, RetryableError } from '../common/errors'
import type { ComputeIdentity } from './compute-identity'

/** The contract refused the transaction (in the gas estimate, or mined and reverted): sending it again cannot help. */
export class TransactionRevertedError extends NonRetryableError {
  override name = 'TransactionRevertedError'
  constructor(
    readonly action: string,
    readonly revert: Revert,
    options?: ErrorOptions,
  ) {
    super(`${action} reverted: ${formatRevert(revert)}`, options)
  }
}

/** The transaction did not get through (RPC down, timeout, nonce race): the same call may succeed later. */
export class TransactionFailedError extends RetryableError {
  override name = 'TransactionFailedError'
}

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

  /** Sends one transaction after the previous one settled, and classifies its failure by whether a retry can help. */
  private send(action: string, write: () => Promise<Hex>): Promise<Hex> {
    const next = this.queue.then(async () => {
      let hash: Hex
      try {
        hash = await write()
      } catch (error) {
        // viem estimates gas before sending, so a call the contract refuses fails here with its decoded revert.
        const revert = revertOfError(error)
        if (revert) throw new TransactionRevertedError(action, revert, { cause: error })
        throw new TransactionFailedError(`${action}: ${(error as Error).message.split('\n')[0]}`, { cause: error })
      }
      const receipt = await this.client.waitForTransactionReceipt({ hash, pollingInterval: 50 }).catch((error) => {
        throw new TransactionFailedError(
          `${action}: no receipt for ${hash}: ${(error as Error).message.split('\n')[0]}`,
          {
            cause: error,
          },
        )
      })
      if (receipt.status !== 'success') {
        const mined = await replayRevert({ client: this.client, receipt }).catch(() => undefined)
        if (mined && 'revert' in mined) throw new TransactionRevertedError(action, mined.revert)
        // Out of gas, or a replay that passes: the block it landed in differed from the one it was estimated for.
        const why = mined ? formatMinedRevert(mined) : 'no replay'
        throw new TransactionFailedError(`${action}: ${hash} reverted in block ${receipt.blockNumber} (${why})`)
      }
      return hash
    })
    this.queue = next.catch(() => {})
    return next
  }

  private get contracts() {
    return this.identity.deployment.contracts
  }

  assignJob({ jobId, provider }: { jobId: bigint; provider: Address }): Promise<Hex> {
    return this.send(`assignJob(${jobId})`, () =>
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
    return this.send(`submitResult(job ${receipt.jobId})`, () =>
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
    return this.send(`slash(${provider})`, () =>
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
    await this.send(`disputeJob(${jobId})`, () =>
      this.wallet.writeContract({
        chain: null,
        account: this.identity.account,
        address,
        abi: jobMarketAbi,
        functionName: 'disputeJob',
        args: [jobId, evidenceHash],
      }),
    )
    return this.send(`resolveDispute(${jobId})`, () =>
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
