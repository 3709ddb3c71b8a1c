import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  defineChain,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseEther,
  type TestClient,
  type TransactionReceipt,
  toHex,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { ANVIL_KEYS, type Anvil, type AnvilOptions, startAnvil } from './anvil'
import { type Deployment, type DeployParams, deployAll } from './deploy'
import { type ComputeReceipt, type ReceiptDomain, receiptDomain, signReceipt } from './receipts'
import { contractErrorsAbi, formatMinedRevert, type Revert, replayRevert, revertOfError } from './revert'

export { contractErrorsAbi, type Revert } from './revert'

/** JobMarket.JobStatus as the ABI returns it. */
export const JobStatus = { OPEN: 0, ASSIGNED: 1, COMPLETED: 2, CANCELLED: 3, EXPIRED: 4, DISPUTED: 5 } as const
export type JobStatusName = keyof typeof JobStatus

/** A fresh anvil with computegraph deployed on it, and clients for tests, benchmarks and the demo. */
export interface LocalNetwork {
  anvil: Anvil
  chain: Chain
  deployment: Deployment
  publicClient: PublicClient
  testClient: TestClient
  domain: ReceiptDomain
  /** anvil's funded accounts: [0] deploys and arbitrates, the rest are free for tests. */
  accounts: Account[]
  wallet(account: Account): WalletClient
  addresses: { token: Address; staking: Address; jobMarket: Address; rewardPool: Address }
  stop(): Promise<void>
}

export async function startLocalNetwork(
  options: { anvil?: AnvilOptions; params?: Partial<DeployParams> } = {},
): Promise<LocalNetwork> {
  const anvil = await startAnvil(options.anvil)
  try {
    const deployment = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_KEYS[0],
      params: options.params,
      pollingInterval: 20,
    })
    return connectLocalNetwork({ anvil, deployment })
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/** Clients for an already deployed network on a running anvil (e.g. the demo's, restored from its state file). */
export function connectLocalNetwork({ anvil, deployment }: { anvil: Anvil; deployment: Deployment }): LocalNetwork {
  const chain = defineChain({
    id: anvil.chainId,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  })
  const transport = http(anvil.rpcUrl)
  const accounts = ANVIL_KEYS.map((k) => privateKeyToAccount(k))
  const c = deployment.contracts
  return {
    anvil,
    chain,
    deployment,
    // No cached block number: viem keeps one for cacheTime (by default the polling interval), so a test asking for
    // the head right after a receipt could get a block from before that transaction.
    publicClient: createPublicClient({ chain, transport, pollingInterval: 20, cacheTime: 0 }),
    testClient: createTestClient({ chain, transport, mode: 'anvil' }),
    domain: receiptDomain({ chainId: anvil.chainId, jobMarket: c.JobMarket.address }),
    accounts,
    wallet: (account) => createWalletClient({ account, chain, transport }),
    addresses: {
      token: c.ComputeToken.address,
      staking: c.ProviderStaking.address,
      jobMarket: c.JobMarket.address,
      rewardPool: c.RewardPool.address,
    },
    stop: () => anvil.stop(),
  }
}

/** The four ABIs in one, for decoding any log of the deployment with parseEventLogs. */
export const allContractsAbi = [...computeTokenAbi, ...providerStakingAbi, ...jobMarketAbi, ...rewardPoolAbi] as const

/**
 * Awaits a contract call that should revert and returns the custom error it reverted with, as viem decoded it.
 * Throws if the call succeeded or failed some other way (no revert data, a network error), so a test cannot
 * mistake a broken node for the expected revert.
 */
export async function revertOf(call: Promise<unknown>): Promise<Revert> {
  try {
    await call
  } catch (error) {
    const reverted = revertOfError(error)
    if (reverted) return reverted
    throw error
  }
  throw new Error('expected the call to revert, but it succeeded')
}

/**
 * The same network with a miner that comes late. Its clock stands still but for explicit moves (evm_increaseTime,
 * evm_setNextBlockTimestamp through this network's clients), and a transaction sent without a pinned timestamp is
 * mined `lagSeconds` after its parent block, so whatever was decided or gas estimated against the latest block meets
 * a later block time, on every transaction rather than by chance. For tests of code that must hold whatever the
 * block timestamps turn out to be.
 */
export async function withLateMiner(net: LocalNetwork, lagSeconds: bigint): Promise<LocalNetwork> {
  // An interval of 0 keeps anvil's wall clock out of block times, so such a test fails the same way on every run.
  await net.testClient.setBlockTimestampInterval({ interval: 0 })
  let pinned = false
  const pin = async (seconds: bigint) => {
    const parent = await net.publicClient.getBlock({ blockTag: 'latest' })
    await net.testClient.setNextBlockTimestamp({ timestamp: parent.timestamp + seconds })
  }
  const transport = custom({
    async request({ method, params }) {
      if (method === 'evm_setNextBlockTimestamp') pinned = true
      if (method === 'evm_increaseTime') {
        // The interval ignores anvil's offset: a move of the clock becomes the next block's time.
        pinned = true
        return pin(BigInt((params as [number | Hex])[0]))
      }
      if (method === 'eth_sendRawTransaction') {
        if (!pinned) await pin(lagSeconds)
        pinned = false
      }
      return net.publicClient.request({ method, params } as never)
    },
  })
  return {
    ...net,
    testClient: createTestClient({ chain: net.chain, transport, mode: 'anvil' }),
    wallet: (account) => createWalletClient({ account, chain: net.chain, transport }),
  }
}

/** Moves the chain's clock forward and mines a block at the new time. */
export async function advanceTime(net: LocalNetwork, seconds: bigint): Promise<void> {
  await net.testClient.increaseTime({ seconds: Number(seconds) })
  await net.testClient.mine({ blocks: 1 })
}

export async function transactionReceipt(net: LocalNetwork, hash: Hex): Promise<TransactionReceipt> {
  return net.publicClient.getTransactionReceipt({ hash })
}

/** The logs a mined transaction emitted, for parseEventLogs. */
export async function logsOf(net: LocalNetwork, hash: Hex): Promise<TransactionReceipt['logs']> {
  return (await transactionReceipt(net, hash)).logs
}

/** The timestamp of the block that mined the transaction: what the contract saw as block.timestamp. */
export async function minedAt(net: LocalNetwork, hash: Hex): Promise<bigint> {
  const { blockNumber } = await transactionReceipt(net, hash)
  return (await net.publicClient.getBlock({ blockNumber })).timestamp
}

/** View calls that tests, benchmarks and seeding compare with events. */
export function reads(net: LocalNetwork) {
  const { addresses: a, publicClient: c } = net
  return {
    balanceOf: (owner: Address) =>
      c.readContract({ address: a.token, abi: computeTokenAbi, functionName: 'balanceOf', args: [owner] }),
    totalSupply: () => c.readContract({ address: a.token, abi: computeTokenAbi, functionName: 'totalSupply' }),
    provider: (provider: Address) =>
      c.readContract({ address: a.staking, abi: providerStakingAbi, functionName: 'getProvider', args: [provider] }),
    totalStaked: () => c.readContract({ address: a.staking, abi: providerStakingAbi, functionName: 'totalStaked' }),
    isEligible: (provider: Address) =>
      c.readContract({ address: a.staking, abi: providerStakingAbi, functionName: 'isEligible', args: [provider] }),
    job: (jobId: bigint) =>
      c.readContract({ address: a.jobMarket, abi: jobMarketAbi, functionName: 'getJob', args: [jobId] }),
    jobCount: () => c.readContract({ address: a.jobMarket, abi: jobMarketAbi, functionName: 'jobCount' }),
    model: (modelId: Hex) =>
      c.readContract({ address: a.jobMarket, abi: jobMarketAbi, functionName: 'getModel', args: [modelId] }),
    nonceUsed: (worker: Address, nonce: bigint) =>
      c.readContract({ address: a.jobMarket, abi: jobMarketAbi, functionName: 'nonceUsed', args: [worker, nonce] }),
    epoch: (epoch: bigint) =>
      c.readContract({ address: a.rewardPool, abi: rewardPoolAbi, functionName: 'getEpoch', args: [epoch] }),
    currentEpoch: () => c.readContract({ address: a.rewardPool, abi: rewardPoolAbi, functionName: 'currentEpoch' }),
    reserved: () => c.readContract({ address: a.rewardPool, abi: rewardPoolAbi, functionName: 'reserved' }),
    workOf: (epoch: bigint, provider: Address) =>
      c.readContract({ address: a.rewardPool, abi: rewardPoolAbi, functionName: 'workOf', args: [epoch, provider] }),
    pendingReward: (epoch: bigint, provider: Address) =>
      c.readContract({
        address: a.rewardPool,
        abi: rewardPoolAbi,
        functionName: 'pendingReward',
        args: [epoch, provider],
      }),
  }
}

/** Sends a transaction and waits for it; throws if it reverted, naming why. */
export async function send(net: LocalNetwork, hash: Promise<Hex>): Promise<Hex> {
  const h = await hash
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: h, pollingInterval: 20 })
  if (receipt.status !== 'success') {
    const why = formatMinedRevert(await replayRevert({ client: net.publicClient, receipt }))
    throw new Error(`tx ${h} reverted in block ${receipt.blockNumber}: ${why}`)
  }
  return h
}

/** High-level actions on a local network, one transaction each, for tests and seeding. */
export function actions(net: LocalNetwork) {
  const { addresses: a } = net
  const w = (account: Account) => net.wallet(account)
  const write = (account: Account, args: Parameters<WalletClient['writeContract']>[0]) =>
    send(
      net,
      w(account).writeContract({
        ...args,
        abi: [...(args.abi as Abi), ...contractErrorsAbi],
        account,
        chain: net.chain,
      } as never),
    )
  return {
    mint: (to: Address, amount: bigint) =>
      write(
        net.accounts[0] as Account,
        {
          address: a.token,
          abi: computeTokenAbi,
          functionName: 'mint',
          args: [to, amount],
        } as never,
      ),
    approve: (owner: Account, spender: Address, amount: bigint) =>
      write(owner, {
        address: a.token,
        abi: computeTokenAbi,
        functionName: 'approve',
        args: [spender, amount],
      } as never),
    transfer: (from: Account, to: Address, amount: bigint) =>
      write(from, { address: a.token, abi: computeTokenAbi, functionName: 'transfer', args: [to, amount] } as never),
    register: (provider: Account, uri = 'ipfs://provider') =>
      write(provider, { address: a.staking, abi: providerStakingAbi, functionName: 'register', args: [uri] } as never),
    updateMetadata: (provider: Account, uri: string) =>
      write(provider, {
        address: a.staking,
        abi: providerStakingAbi,
        functionName: 'updateMetadata',
        args: [uri],
      } as never),
    stake: (provider: Account, amount: bigint) =>
      write(provider, { address: a.staking, abi: providerStakingAbi, functionName: 'stake', args: [amount] } as never),
    requestUnstake: (provider: Account, amount: bigint) =>
      write(provider, {
        address: a.staking,
        abi: providerStakingAbi,
        functionName: 'requestUnstake',
        args: [amount],
      } as never),
    withdraw: (provider: Account) =>
      write(provider, { address: a.staking, abi: providerStakingAbi, functionName: 'withdraw', args: [] } as never),
    slash: (arbiter: Account, provider: Address, amount: bigint, reason: Hex, recipient: Address) =>
      write(arbiter, {
        address: a.staking,
        abi: providerStakingAbi,
        functionName: 'slash',
        args: [provider, amount, reason, recipient],
      } as never),
    registerModel: (owner: Account, modelId: Hex, uri = 'ipfs://model') =>
      write(owner, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'registerModel',
        args: [modelId, uri],
      } as never),
    createJob: (
      client: Account,
      job: { modelId: Hex; kind?: 0 | 1; inputHash: Hex; payment: bigint; deadline: bigint },
    ) =>
      write(client, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'createJob',
        args: [job.modelId, job.kind ?? 0, job.inputHash, job.payment, job.deadline],
      } as never),
    assignJob: (caller: Account, jobId: bigint, provider: Address) =>
      write(caller, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'assignJob',
        args: [jobId, provider],
      } as never),
    submitResult: (relayer: Account, receipt: ComputeReceipt, signature: Hex) =>
      write(relayer, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'submitResult',
        args: [receipt, signature],
      } as never),
    cancelJob: (client: Account, jobId: bigint) =>
      write(client, { address: a.jobMarket, abi: jobMarketAbi, functionName: 'cancelJob', args: [jobId] } as never),
    expireJob: (caller: Account, jobId: bigint) =>
      write(caller, { address: a.jobMarket, abi: jobMarketAbi, functionName: 'expireJob', args: [jobId] } as never),
    disputeJob: (caller: Account, jobId: bigint, evidenceHash: Hex) =>
      write(caller, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'disputeJob',
        args: [jobId, evidenceHash],
      } as never),
    resolveDispute: (arbiter: Account, jobId: bigint, atFault: boolean, slashAmount: bigint) =>
      write(arbiter, {
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'resolveDispute',
        args: [jobId, atFault, slashAmount],
      } as never),
    fundRewards: (funder: Account, amount: bigint) =>
      write(funder, { address: a.rewardPool, abi: rewardPoolAbi, functionName: 'fund', args: [amount] } as never),
    finalizeEpoch: (caller: Account) =>
      write(caller, { address: a.rewardPool, abi: rewardPoolAbi, functionName: 'finalizeEpoch', args: [] } as never),
    claim: (provider: Account, epoch: bigint) =>
      write(provider, { address: a.rewardPool, abi: rewardPoolAbi, functionName: 'claim', args: [epoch] } as never),
    setJobMarket: (admin: Account, jobMarket: Address) =>
      write(admin, {
        address: a.rewardPool,
        abi: rewardPoolAbi,
        functionName: 'setJobMarket',
        args: [jobMarket],
      } as never),
    /** Only JobMarket may call this; exposed so tests can check that nobody else can. */
    payJob: (caller: Account, jobId: bigint, provider: Address, payment: bigint, fee: bigint) =>
      write(caller, {
        address: a.rewardPool,
        abi: rewardPoolAbi,
        functionName: 'payJob',
        args: [jobId, provider, payment, fee],
      } as never),
    /** Mints, approves staking and the market, registers and stakes: a provider ready for jobs. */
    async onboardProvider(provider: Account, stake = parseEther('5000')) {
      await this.mint(provider.address, stake)
      await this.approve(provider, a.staking, stake)
      await this.register(provider)
      await this.stake(provider, stake)
    },
    /** Mints and approves the market: a client ready to post jobs. */
    async fundClient(client: Account, amount = parseEther('10000')) {
      await this.mint(client.address, amount)
      await this.approve(client, a.jobMarket, amount)
    },
    async latestTimestamp() {
      return (await net.publicClient.getBlock()).timestamp
    },
    /** A receipt for an assigned on-chain job, signed by `signer` (the provider, unless a test says otherwise). */
    async signedReceipt(
      signer: Account,
      fields: Partial<ComputeReceipt> &
        Pick<ComputeReceipt, 'jobId' | 'requester' | 'modelId' | 'requestHash' | 'price'>,
      domain: ReceiptDomain = net.domain,
    ) {
      const now = await this.latestTimestamp()
      const receipt: ComputeReceipt = {
        outputHash: keccak256(toHex(`output of job ${fields.jobId}`)),
        runtimeId: keccak256(toHex('onnxruntime-node/cpu')),
        worker: signer.address,
        units: 1n,
        issuedAt: now,
        expiresAt: now + 3600n,
        nonce: BigInt(fields.jobId) + 1_000_000n,
        ...fields,
      }
      return { receipt, signature: await signReceipt({ account: signer, domain, receipt }) }
    },
    /** Signs a receipt matching the job as its assigned provider and submits it: the job becomes COMPLETED. */
    async completeJob(provider: Account, jobId: bigint, relayer: Account = provider) {
      const job = await net.publicClient.readContract({
        address: a.jobMarket,
        abi: jobMarketAbi,
        functionName: 'getJob',
        args: [jobId],
      })
      const { receipt, signature } = await this.signedReceipt(provider, {
        jobId,
        requester: job.client,
        modelId: job.modelId,
        requestHash: job.inputHash,
        price: job.payment,
      })
      return this.submitResult(relayer, receipt, signature)
    },
  }
}
