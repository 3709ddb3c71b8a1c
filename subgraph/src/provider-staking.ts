import { BigInt, Bytes, ethereum } from '@graphprotocol/graph-ts'
import {
  ProviderRegistered,
  ProviderUpdated,
  Slashed,
  Staked,
  Unstaked,
  UnstakeRequested,
} from '../generated/ProviderStaking/ProviderStaking'
import { Network, Provider, StakeEvent } from '../generated/schema'
import { countActive, eventId, loadNetwork, loadProvider, ONE, ZERO } from './common'
import { networkPoint, providerPoint } from './stats'

export function handleProviderRegistered(event: ProviderRegistered): void {
  const network = loadNetwork()
  const provider = new Provider(event.params.provider)
  provider.metadataURI = event.params.metadataURI
  provider.stake = ZERO
  provider.pendingUnstake = ZERO
  provider.unlockAt = ZERO
  provider.slashedTotal = ZERO
  provider.jobsAssigned = ZERO
  provider.jobsCompleted = ZERO
  provider.jobsFailed = ZERO
  provider.rewardsEarned = ZERO
  provider.registeredAt = event.block.timestamp
  provider.registeredAtBlock = event.block.number
  provider.save()

  network.providerCount = network.providerCount.plus(ONE)
  // With a zero minimum, registering alone makes a provider eligible (ProviderStaking.isEligible).
  if (ZERO.ge(network.minStake)) network.activeProviderCount = network.activeProviderCount.plus(ONE)
  network.save()
  if (ZERO.ge(network.minStake)) networkPoint(event, network, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
}

export function handleProviderUpdated(event: ProviderUpdated): void {
  const provider = loadProvider(event.params.provider)
  provider.metadataURI = event.params.metadataURI
  provider.save()
}

export function handleStaked(event: Staked): void {
  const network = loadNetwork()
  const provider = loadProvider(event.params.provider)
  countActive(network, provider.stake, event.params.newStake)
  provider.stake = event.params.newStake
  provider.save()

  network.totalStake = event.params.totalStaked
  network.save()
  saveStakeEvent(event, provider, 'STAKED', event.params.amount, null)
  stakePoints(event, network, provider)
}

export function handleUnstakeRequested(event: UnstakeRequested): void {
  const network = loadNetwork()
  const provider = loadProvider(event.params.provider)
  countActive(network, provider.stake, event.params.newStake)
  network.totalPendingUnstake = network.totalPendingUnstake
    .plus(event.params.pendingUnstake)
    .minus(provider.pendingUnstake)
  provider.stake = event.params.newStake
  provider.pendingUnstake = event.params.pendingUnstake
  provider.unlockAt = event.params.unlockAt
  provider.save()

  network.totalStake = event.params.totalStaked
  network.save()
  saveStakeEvent(event, provider, 'UNSTAKE_REQUESTED', event.params.amount, null)
  stakePoints(event, network, provider)
}

export function handleUnstaked(event: Unstaked): void {
  const network = loadNetwork()
  const provider = loadProvider(event.params.provider)
  network.totalPendingUnstake = network.totalPendingUnstake.minus(provider.pendingUnstake)
  provider.pendingUnstake = ZERO
  provider.unlockAt = ZERO
  provider.save()

  network.save()
  saveStakeEvent(event, provider, 'WITHDRAWN', event.params.amount, null)
}

export function handleSlashed(event: Slashed): void {
  const network = loadNetwork()
  const provider = loadProvider(event.params.provider)
  countActive(network, provider.stake, event.params.newStake)
  network.totalPendingUnstake = network.totalPendingUnstake
    .plus(event.params.pendingUnstake)
    .minus(provider.pendingUnstake)
  provider.stake = event.params.newStake
  provider.pendingUnstake = event.params.pendingUnstake
  provider.slashedTotal = event.params.slashedTotal
  provider.save()

  network.totalStake = event.params.totalStaked
  network.totalSlashed = network.totalSlashed.plus(event.params.amount)
  network.save()
  saveStakeEvent(event, provider, 'SLASHED', event.params.amount, event.params.reason)
  stakePoints(event, network, provider)
}

/** A stake change moves the network's total stake, maybe its active providers, and the provider's stake. */
function stakePoints(event: ethereum.Event, network: Network, provider: Provider): void {
  networkPoint(event, network, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
  providerPoint(event, provider, ZERO, ZERO, ZERO)
}

/** Records the change with the provider's totals after it. */
function saveStakeEvent(
  event: ethereum.Event,
  provider: Provider,
  type: string,
  amount: BigInt,
  reason: Bytes | null,
): void {
  const stakeEvent = new StakeEvent(eventId(event))
  stakeEvent.provider = provider.id
  stakeEvent.type = type
  stakeEvent.amount = amount
  stakeEvent.stakeAfter = provider.stake
  stakeEvent.pendingUnstakeAfter = provider.pendingUnstake
  stakeEvent.reason = reason
  stakeEvent.timestamp = event.block.timestamp
  stakeEvent.blockNumber = event.block.number
  stakeEvent.transactionHash = event.transaction.hash
  stakeEvent.save()
}
