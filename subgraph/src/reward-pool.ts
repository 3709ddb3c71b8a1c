import { EpochFinalized, RewardClaimed, RewardPaid, RewardsFunded } from '../generated/RewardPool/RewardPool'
import { Reward } from '../generated/schema'
import { eventId, loadEpoch, loadNetwork, loadProvider, ONE, ZERO } from './common'
import { networkPoint, providerPoint } from './stats'

export function handleRewardPaid(event: RewardPaid): void {
  const p = event.params
  const reward = new Reward(eventId(event))
  reward.provider = p.provider
  reward.kind = 'JOB_PAYMENT'
  reward.amount = p.amount
  reward.fee = p.fee
  reward.job = p.jobId.toString()
  reward.epoch = p.epoch.toString()
  reward.timestamp = event.block.timestamp
  reward.blockNumber = event.block.number
  reward.transactionHash = event.transaction.hash
  reward.save()

  const provider = loadProvider(p.provider)
  provider.rewardsEarned = provider.rewardsEarned.plus(p.amount)
  provider.save()

  // Work is the job's payment, which RewardPool splits into the provider's amount and the fee.
  const epoch = loadEpoch(p.epoch)
  epoch.fees = epoch.fees.plus(p.fee)
  epoch.totalWork = epoch.totalWork.plus(p.amount).plus(p.fee)
  epoch.save()

  networkPoint(event, loadNetwork(), ZERO, ZERO, ZERO, ZERO, p.amount, ZERO)
  providerPoint(event, provider, ZERO, p.amount, p.fee)
}

export function handleRewardsFunded(event: RewardsFunded): void {
  const epoch = loadEpoch(event.params.epoch)
  epoch.funded = epoch.funded.plus(event.params.amount)
  epoch.save()

  const network = loadNetwork()
  network.totalFunded = network.totalFunded.plus(event.params.amount)
  network.save()
}

export function handleEpochFinalized(event: EpochFinalized): void {
  const p = event.params
  const epoch = loadEpoch(p.epoch)
  epoch.rewards = p.rewards
  epoch.totalWork = p.totalWork
  epoch.startedAt = p.startedAt
  epoch.finalizedAt = p.finalizedAt
  epoch.finalized = true
  epoch.save()

  const next = loadEpoch(p.epoch.plus(ONE))
  next.startedAt = p.finalizedAt
  next.save()

  const network = loadNetwork()
  network.currentEpoch = p.epoch.plus(ONE)
  network.save()
}

export function handleRewardClaimed(event: RewardClaimed): void {
  const p = event.params
  const reward = new Reward(eventId(event))
  reward.provider = p.provider
  reward.kind = 'EPOCH_CLAIM'
  reward.amount = p.amount
  reward.fee = ZERO
  reward.epoch = p.epoch.toString()
  reward.timestamp = event.block.timestamp
  reward.blockNumber = event.block.number
  reward.transactionHash = event.transaction.hash
  reward.save()

  const provider = loadProvider(p.provider)
  provider.rewardsEarned = provider.rewardsEarned.plus(p.amount)
  provider.save()

  const epoch = loadEpoch(p.epoch)
  epoch.claimed = epoch.claimed.plus(p.amount)
  epoch.save()

  const network = loadNetwork()
  network.totalRewardsClaimed = network.totalRewardsClaimed.plus(p.amount)
  network.save()
  networkPoint(event, network, ZERO, ZERO, ZERO, ZERO, ZERO, p.amount)
  providerPoint(event, provider, ZERO, p.amount, ZERO)
}
