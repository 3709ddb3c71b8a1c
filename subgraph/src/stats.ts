import { BigInt, ethereum } from '@graphprotocol/graph-ts'
import { Network, NetworkDataPoint, Provider, ProviderDataPoint } from '../generated/schema'

// graph-node sets a data point's id and timestamp itself when it is saved; the values here only satisfy the types.
const MICROS: i64 = 1_000_000

/** Records what an event adds to the network's statistics and the totals it leaves; rolled up into NetworkStat. */
export function networkPoint(
  event: ethereum.Event,
  network: Network,
  jobsCreated: BigInt,
  jobsCompleted: BigInt,
  payments: BigInt,
  fees: BigInt,
  rewardsPaid: BigInt,
  rewardsClaimed: BigInt,
): void {
  const point = new NetworkDataPoint(0)
  point.timestamp = event.block.timestamp.toI64() * MICROS
  point.jobsCreated = jobsCreated
  point.jobsCompleted = jobsCompleted
  point.payments = payments
  point.fees = fees
  point.rewardsPaid = rewardsPaid
  point.rewardsClaimed = rewardsClaimed
  point.totalStake = network.totalStake
  point.activeProviders = network.activeProviderCount
  point.save()
}

/** Records what an event adds to a provider's statistics and its stake after it; rolled up into ProviderStat. */
export function providerPoint(
  event: ethereum.Event,
  provider: Provider,
  jobsCompleted: BigInt,
  rewards: BigInt,
  fees: BigInt,
): void {
  const point = new ProviderDataPoint(0)
  point.timestamp = event.block.timestamp.toI64() * MICROS
  point.provider = provider.id
  point.jobsCompleted = jobsCompleted
  point.rewards = rewards
  point.fees = fees
  point.stake = provider.stake
  point.save()
}
