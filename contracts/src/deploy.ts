import { readFile, writeFile } from 'node:fs/promises'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  isAddress,
  keccak256,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  computeTokenAbi,
  computeTokenBytecode,
  jobMarketAbi,
  jobMarketBytecode,
  providerStakingAbi,
  providerStakingBytecode,
  rewardPoolAbi,
  rewardPoolBytecode,
} from '../generated/abis'
import type { ContractName } from './names'

export interface DeployParams {
  /** Smallest stake (token base units) that makes a provider eligible for jobs. */
  minStake: bigint
  /** Seconds between requestUnstake and withdraw. */
  unbondingDelay: bigint
  /** Protocol fee in basis points of each job's payment. */
  feeBps: number
  /** Seconds after completion during which the client may dispute. */
  disputeWindow: bigint
  /** Seconds an epoch lasts before it can be finalized. */
  epochDuration: bigint
}

export const DEFAULT_DEPLOY_PARAMS: DeployParams = {
  minStake: 1_000n * 10n ** 18n,
  unbondingDelay: 7n * 24n * 3600n,
  feeBps: 500,
  disputeWindow: 24n * 3600n,
  epochDuration: 24n * 3600n,
}

/** JobMarket.MAX_FEE_BPS: its constructor reverts with FeeTooHigh above this. */
export const MAX_FEE_BPS = 5_000
const MAX_UINT64 = 2n ** 64n - 1n // unbondingDelay, disputeWindow and epochDuration are uint64 on chain
const MAX_UINT256 = 2n ** 256n - 1n

export interface DeployedContract {
  address: Address
  startBlock: number
}

/** The file the gateway reads to know what to index. */
export interface Deployment {
  chainId: number
  deployer: Address
  arbiter: Address
  dispatcher: Address
  params: { minStake: string; unbondingDelay: string; feeBps: number; disputeWindow: string; epochDuration: string }
  contracts: Record<ContractName, DeployedContract>
}

export interface DeployArgs {
  rpcUrl: string
  privateKey: Hex
  params?: Partial<DeployParams>
  /** Gets SLASHER_ROLE on staking and ARBITER_ROLE on the market; the deployer when omitted. */
  arbiter?: Address
  /** Gets DISPATCHER_ROLE on the market; the deployer when omitted. */
  dispatcher?: Address
  /** Poll interval for receipts, in ms; short on a local chain. */
  pollingInterval?: number
}

/** An argument deployAll would only fail on after deploying some contracts, and what it should be instead. */
export interface DeployArgProblem {
  arg: keyof DeployParams | 'arbiter' | 'dispatcher'
  value: unknown
  expected: string
}

/** The first argument deployAll would reject, found without touching the chain; undefined when all are fine. */
export function findDeployArgProblem({
  params = {},
  arbiter,
  dispatcher,
}: Pick<DeployArgs, 'params' | 'arbiter' | 'dispatcher'>): DeployArgProblem | undefined {
  for (const [arg, value] of [
    ['arbiter', arbiter],
    ['dispatcher', dispatcher],
  ] as const) {
    if (value === undefined || isAddress(value)) continue
    // isAddress also rejects 40 hex digits in mixed case that is not the EIP-55 checksum
    const checksumOnly = typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value)
    return {
      arg,
      value,
      expected: checksumOnly ? 'an EIP-55 checksummed or all lower-case address' : 'a 20-byte hex address',
    }
  }
  const { feeBps } = params
  if (feeBps !== undefined && !(Number.isInteger(feeBps) && feeBps >= 0 && feeBps <= MAX_FEE_BPS)) {
    return { arg: 'feeBps', value: feeBps, expected: `an integer from 0 to ${MAX_FEE_BPS} (JobMarket.MAX_FEE_BPS)` }
  }
  for (const [arg, max, range] of [
    ['minStake', MAX_UINT256, '2^256-1'],
    ['unbondingDelay', MAX_UINT64, '2^64-1'],
    ['disputeWindow', MAX_UINT64, '2^64-1'],
    ['epochDuration', MAX_UINT64, '2^64-1'],
  ] as const) {
    const value = params[arg]
    if (value !== undefined && !(typeof value === 'bigint' && value >= 0n && value <= max)) {
      return { arg, value, expected: `an integer from 0 to ${range}` }
    }
  }
  return undefined
}

export const SLASHER_ROLE = keccak256(toHex('SLASHER_ROLE'))
export const ARBITER_ROLE = keccak256(toHex('ARBITER_ROLE'))
export const DISPATCHER_ROLE = keccak256(toHex('DISPATCHER_ROLE'))

/** Deploys and wires ComputeToken, ProviderStaking, RewardPool and JobMarket on any RPC URL. */
export async function deployAll({
  rpcUrl,
  privateKey,
  params: overrides,
  arbiter,
  dispatcher,
  pollingInterval = 100,
}: DeployArgs): Promise<Deployment> {
  const params = { ...DEFAULT_DEPLOY_PARAMS, ...overrides }
  // Checked before the first transaction: these would otherwise revert or fail to encode mid-deployment.
  const problem = findDeployArgProblem({ params, arbiter, dispatcher })
  if (problem) {
    const { arg, value, expected } = problem
    throw new TypeError(
      `Invalid ${arg}=${typeof value === 'string' ? JSON.stringify(value) : value}: expected ${expected}`,
    )
  }
  const account = privateKeyToAccount(privateKey)
  const probe = createPublicClient({ transport: http(rpcUrl) })
  const chainId = await probe.getChainId()
  const chain: Chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval })
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) })
  const admin = account.address
  const arbiterAddress = arbiter ?? admin
  const dispatcherAddress = dispatcher ?? admin

  const confirm = async (hash: Hex, what: string) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval })
    if (receipt.status !== 'success') throw new Error(`deploy step "${what}" reverted in tx ${hash}`)
    return receipt
  }
  const deployed = async (hash: Hex, name: ContractName): Promise<DeployedContract> => {
    const receipt = await confirm(hash, `deploy ${name}`)
    if (!receipt.contractAddress) throw new Error(`deploying ${name} created no contract (tx ${hash})`)
    return { address: getAddress(receipt.contractAddress), startBlock: Number(receipt.blockNumber) }
  }

  const token = await deployed(
    await wallet.deployContract({ abi: computeTokenAbi, bytecode: computeTokenBytecode, args: [admin] }),
    'ComputeToken',
  )
  const staking = await deployed(
    await wallet.deployContract({
      abi: providerStakingAbi,
      bytecode: providerStakingBytecode,
      args: [token.address, params.minStake, params.unbondingDelay, admin],
    }),
    'ProviderStaking',
  )
  const rewardPool = await deployed(
    await wallet.deployContract({
      abi: rewardPoolAbi,
      bytecode: rewardPoolBytecode,
      args: [token.address, params.epochDuration, admin],
    }),
    'RewardPool',
  )
  const jobMarket = await deployed(
    await wallet.deployContract({
      abi: jobMarketAbi,
      bytecode: jobMarketBytecode,
      args: [token.address, staking.address, rewardPool.address, params.feeBps, params.disputeWindow, admin],
    }),
    'JobMarket',
  )

  const wire: [string, Promise<Hex>][] = []
  const step = (what: string, send: () => Promise<Hex>) => wire.push([what, send()])
  // Sent one after another so each gets the next nonce; confirmed together.
  step('RewardPool.setJobMarket', () =>
    wallet.writeContract({
      address: rewardPool.address,
      abi: rewardPoolAbi,
      functionName: 'setJobMarket',
      args: [jobMarket.address],
    }),
  )
  await wire.at(-1)?.[1]
  for (const [who, role, target, abi] of [
    [jobMarket.address, SLASHER_ROLE, staking.address, providerStakingAbi],
    [arbiterAddress, SLASHER_ROLE, staking.address, providerStakingAbi],
    [arbiterAddress, ARBITER_ROLE, jobMarket.address, jobMarketAbi],
    [dispatcherAddress, DISPATCHER_ROLE, jobMarket.address, jobMarketAbi],
  ] as const) {
    step(`grantRole ${role} to ${who}`, () =>
      wallet.writeContract({ address: target, abi, functionName: 'grantRole', args: [role, who] }),
    )
    await wire.at(-1)?.[1]
  }
  for (const [what, hash] of wire) await confirm(await hash, what)

  return {
    chainId,
    deployer: admin,
    arbiter: getAddress(arbiterAddress),
    dispatcher: getAddress(dispatcherAddress),
    params: {
      minStake: params.minStake.toString(),
      unbondingDelay: params.unbondingDelay.toString(),
      feeBps: params.feeBps,
      disputeWindow: params.disputeWindow.toString(),
      epochDuration: params.epochDuration.toString(),
    },
    contracts: { ComputeToken: token, ProviderStaking: staking, RewardPool: rewardPool, JobMarket: jobMarket },
  }
}

export async function writeDeployment(file: string, deployment: Deployment): Promise<void> {
  await writeFile(file, `${JSON.stringify(deployment, null, 2)}\n`)
}

/** Reads and validates a deployment file, naming the first thing that is wrong. */
export async function readDeployment(file: string): Promise<Deployment> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new Error(`cannot read deployment file ${file}: ${(cause as Error).message}`, { cause })
  }
  return parseDeployment(json, file)
}

export function parseDeployment(json: unknown, source = 'deployment'): Deployment {
  const fail = (what: string): never => {
    throw new Error(`invalid ${source}: ${what}`)
  }
  if (typeof json !== 'object' || json === null) fail('expected a JSON object')
  const d = json as Deployment
  if (!Number.isInteger(d.chainId) || d.chainId <= 0) fail(`chainId must be a positive integer, got ${d.chainId}`)
  for (const name of ['ComputeToken', 'ProviderStaking', 'RewardPool', 'JobMarket'] as const) {
    const c = d.contracts?.[name]
    if (!c) fail(`contracts.${name} is missing`)
    else {
      if (!isAddress(c.address)) fail(`contracts.${name}.address is not an address: ${c.address}`)
      if (!Number.isInteger(c.startBlock) || c.startBlock < 0) {
        fail(`contracts.${name}.startBlock must be a block number, got ${c.startBlock}`)
      }
    }
  }
  return d
}
