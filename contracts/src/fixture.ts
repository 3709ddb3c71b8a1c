import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseEther,
  type TestClient,
  toHex,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { computeTokenAbi, jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '../generated/abis'
import { ANVIL_KEYS, type Anvil, type AnvilOptions, startAnvil } from './anvil'
import { type Deployment, type DeployParams, deployAll } from './deploy'
import { type ComputeReceipt, type ReceiptDomain, receiptDomain, signReceipt } from './receipts'

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
    const chain = defineChain({
      id: anvil.chainId,
      name: 'anvil',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const transport = http(anvil.rpcUrl)
    const deployment = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_KEYS[0],
      params: options.params,
      pollingInterval: 20,
    })
    const accounts = ANVIL_KEYS.map((k) => privateKeyToAccount(k))
    const c = deployment.contracts
    return {
      anvil,
      chain,
      deployment,
      publicClient: createPublicClient({ chain, transport, pollingInterval: 20 }),
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
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/** Sends a transaction and waits for it; throws if it reverted. */
export async function send(net: LocalNetwork, hash: Promise<Hex>): Promise<Hex> {
  const h = await hash
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: h, pollingInterval: 20 })
  if (receipt.status !== 'success') throw new Error(`tx ${h} reverted`)
  return h
}

/** High-level actions on a local network, one transaction each, for tests and seeding. */
export function actions(net: LocalNetwork) {
  const { addresses: a } = net
  const w = (account: Account) => net.wallet(account)
  const write = (account: Account, args: Parameters<WalletClient['writeContract']>[0]) =>
    send(net, w(account).writeContract({ ...args, account, chain: net.chain } as never))
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
    register: (provider: Account, uri = 'ipfs://provider') =>
      write(provider, { address: a.staking, abi: providerStakingAbi, functionName: 'register', args: [uri] } as never),
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
  }
}
