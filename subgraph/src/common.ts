// AssemblyScript (0.19, through graph-cli): no closures, and no union types other than `T | null`.
import { Address, BigInt, Bytes, dataSource, ethereum } from '@graphprotocol/graph-ts'
import { ProviderStaking } from '../generated/ProviderStaking/ProviderStaking'
import { Epoch, Network, Provider } from '../generated/schema'

export const NETWORK_ID = 'network'
export const ZERO = BigInt.zero()
export const ONE = BigInt.fromI32(1)

/**
 * Entity id of one log: its transaction hash followed by its log index as 4 big-endian bytes, as the gateway forms
 * it (graph-ts's concatI32 would append little-endian bytes, which neither matches nor sorts by log index).
 */
export function eventId(event: ethereum.Event): Bytes {
  const logIndex = Bytes.fromI32(event.logIndex.toI32())
  logIndex.reverse()
  return event.transaction.hash.concat(logIndex)
}

/** The Network singleton, created on first use; minStake is immutable in ProviderStaking, so it is read once. */
export function loadNetwork(): Network {
  const existing = Network.load(NETWORK_ID)
  if (existing != null) return existing
  const network = new Network(NETWORK_ID)
  const staking = ProviderStaking.bind(Address.fromBytes(dataSource.context().getBytes('providerStaking')))
  network.minStake = staking.minStake()
  network.totalStake = ZERO
  network.totalPendingUnstake = ZERO
  network.totalSlashed = ZERO
  network.providerCount = ZERO
  network.activeProviderCount = ZERO
  network.modelCount = ZERO
  network.clientCount = ZERO
  network.jobCount = ZERO
  network.jobsCompleted = ZERO
  network.jobsCancelled = ZERO
  network.jobsExpired = ZERO
  network.jobsDisputed = ZERO
  network.totalPayments = ZERO
  network.totalFees = ZERO
  network.totalRefunds = ZERO
  network.totalRewardsClaimed = ZERO
  network.totalFunded = ZERO
  network.currentEpoch = ZERO
  return network
}

/** Every event that names a provider comes after its registration: the contracts revert otherwise. */
export function loadProvider(id: Bytes): Provider {
  const provider = Provider.load(id)
  if (provider == null) throw new Error(`provider ${id.toHexString()} was never registered`)
  return provider
}

/** Keeps activeProviderCount equal to the number of providers whose stake is at least minStake. */
export function countActive(network: Network, stakeBefore: BigInt, stakeAfter: BigInt): void {
  const wasActive = stakeBefore.ge(network.minStake)
  const isActive = stakeAfter.ge(network.minStake)
  if (isActive && !wasActive) network.activeProviderCount = network.activeProviderCount.plus(ONE)
  if (wasActive && !isActive) network.activeProviderCount = network.activeProviderCount.minus(ONE)
}

/** An epoch of RewardPool, created with zero totals by the first event that names it. */
export function loadEpoch(epoch: BigInt): Epoch {
  const id = epoch.toString()
  const existing = Epoch.load(id)
  if (existing != null) return existing
  const entity = new Epoch(id)
  entity.number = epoch
  entity.fees = ZERO
  entity.funded = ZERO
  entity.totalWork = ZERO
  entity.rewards = ZERO
  entity.claimed = ZERO
  entity.finalized = false
  return entity
}
