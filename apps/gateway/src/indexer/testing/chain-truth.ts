import { jobMarketAbi, providerStakingAbi, rewardPoolAbi } from '@computegraph/contracts'
import type { LocalNetwork } from '@computegraph/contracts/fixture'
import type { Address } from 'viem'
import type { SchemaModel } from '../../db/entity-model'
import type { Row } from '../entity-store'
import type { IndexerRepository } from '../indexer.repository'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'
const ZERO_HASH = `0x${'0'.repeat(64)}`
const STATUSES = ['OPEN', 'ASSIGNED', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'DISPUTED']

/**
 * Compares the indexed state at `block` with what the contracts themselves return from view calls at that block.
 * Returns a list of mismatches, empty when the index is exact.
 */
export async function compareWithChain({
  net,
  repository,
  model,
  block,
  providers,
}: {
  net: LocalNetwork
  repository: IndexerRepository
  model: SchemaModel
  block: bigint
  /** Every address that may have registered as a provider. */
  providers: Address[]
}): Promise<string[]> {
  const problems: string[] = []
  const at = async (name: string) => {
    const entity = model.entities.find((e) => e.name === name)
    if (!entity) throw new Error(`no entity ${name}`)
    return new Map((await repository.entitiesAt(entity, block)).map((r) => [r.id, r]))
  }
  const read = <T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) =>
    net.publicClient.readContract({ address, abi, functionName, args, blockNumber: block } as never) as Promise<T>
  const eq = (what: string, indexed: unknown, chain: unknown) => {
    if (indexed !== chain) problems.push(`${what}: indexed ${String(indexed)}, chain ${String(chain)}`)
  }

  const indexedProviders = await at('Provider')
  let activeOnChain = 0n
  const minStake = await read<bigint>(net.addresses.staking, providerStakingAbi, 'minStake')
  for (const address of providers) {
    const id = address.toLowerCase()
    const p = await read<{
      registered: boolean
      stake: bigint
      pendingUnstake: bigint
      unlockAt: bigint
      slashedTotal: bigint
      metadataURI: string
    }>(net.addresses.staking, providerStakingAbi, 'getProvider', [address])
    const row = indexedProviders.get(id)
    if (p.registered !== Boolean(row)) {
      problems.push(`provider ${id}: registered on chain ${p.registered}, indexed ${Boolean(row)}`)
      continue
    }
    if (!row) continue
    if (p.stake >= minStake) activeOnChain++
    eq(`provider ${id} stake`, row.stake, p.stake)
    eq(`provider ${id} pendingUnstake`, row.pendingUnstake, p.pendingUnstake)
    eq(`provider ${id} unlockAt`, row.unlockAt, p.unlockAt)
    eq(`provider ${id} slashedTotal`, row.slashedTotal, p.slashedTotal)
    eq(`provider ${id} metadataURI`, row.metadataURI, p.metadataURI)
  }

  const jobCount = await read<bigint>(net.addresses.jobMarket, jobMarketAbi, 'jobCount')
  const jobs = await at('Job')
  eq('job count', BigInt(jobs.size), jobCount)
  const completedByProvider = new Map<string, bigint>()
  for (let id = 1n; id <= jobCount; id++) {
    const j = await read<{
      client: Address
      kind: number
      status: number
      provider: Address
      modelId: string
      inputHash: string
      outputHash: string
      payment: bigint
      deadline: bigint
    }>(net.addresses.jobMarket, jobMarketAbi, 'getJob', [id])
    const row = jobs.get(id.toString()) as Row | undefined
    if (!row) {
      problems.push(`job ${id} missing from the index`)
      continue
    }
    eq(`job ${id} status`, row.status, STATUSES[j.status])
    eq(`job ${id} client`, row.client, j.client.toLowerCase())
    eq(`job ${id} provider`, row.provider, j.provider === ZERO_ADDRESS ? null : j.provider.toLowerCase())
    eq(`job ${id} model`, row.model, j.modelId)
    eq(`job ${id} kind`, row.kind, j.kind === 0 ? 'INFERENCE' : 'TRAINING')
    eq(`job ${id} payment`, row.payment, j.payment)
    eq(`job ${id} inputHash`, row.inputHash, j.inputHash)
    eq(`job ${id} outputHash`, row.outputHash, j.outputHash === ZERO_HASH ? null : j.outputHash)
    eq(`job ${id} deadline`, row.deadline, j.deadline)
    if (row.completedAt !== null && row.provider) {
      completedByProvider.set(row.provider as string, (completedByProvider.get(row.provider as string) ?? 0n) + 1n)
    }
  }
  for (const [id, row] of indexedProviders) {
    eq(`provider ${id} jobsCompleted`, row.jobsCompleted, completedByProvider.get(id) ?? 0n)
  }

  const currentEpoch = await read<bigint>(net.addresses.rewardPool, rewardPoolAbi, 'currentEpoch')
  const epochs = await at('Epoch')
  for (let e = 0n; e <= currentEpoch; e++) {
    const c = await read<{ rewards: bigint; totalWork: bigint; claimed: bigint; finalizedAt: bigint }>(
      net.addresses.rewardPool,
      rewardPoolAbi,
      'getEpoch',
      [e],
    )
    const row = epochs.get(e.toString())
    eq(`epoch ${e} rewards`, row?.rewards ?? 0n, c.rewards)
    eq(`epoch ${e} totalWork`, row?.totalWork ?? 0n, c.totalWork)
    eq(`epoch ${e} claimed`, row?.claimed ?? 0n, c.claimed)
    eq(`epoch ${e} finalized`, row?.finalized ?? false, c.finalizedAt > 0n)
  }

  const network = (await at('Network')).get('network')
  if (network) {
    eq(
      'network totalStake',
      network.totalStake,
      await read<bigint>(net.addresses.staking, providerStakingAbi, 'totalStaked'),
    )
    eq('network jobCount', network.jobCount, jobCount)
    eq('network currentEpoch', network.currentEpoch, currentEpoch)
    eq('network providerCount', network.providerCount, BigInt(indexedProviders.size))
    eq('network activeProviderCount', network.activeProviderCount, activeOnChain)
  } else if (jobCount > 0n || indexedProviders.size > 0) {
    problems.push('network entity missing')
  }
  return problems
}
