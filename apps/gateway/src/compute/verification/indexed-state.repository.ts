import { Inject, Injectable } from '@nestjs/common'
import { sql } from 'drizzle-orm'
import { type Address, getAddress, type Hex } from 'viem'
import type { Database } from '../../db/database'
import { DATABASE } from '../../db/db.module'
import { storeError } from '../../graphql/entity.repository'
import type { IndexedJob, StakeAt } from './verify-receipt'

const INT8_MAX = 2n ** 63n - 1n
const NETWORK_ID = 'network' // the Network singleton's id (indexer/handlers.ts)

/** What receipt verification reads from the indexed entities: a provider's stake at a time, and jobs. */
@Injectable()
export class IndexedStateRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /**
   * The provider's entity version and the Network's minStake live at `block` (at the indexed head without one): the
   * state the chain had then. Entities are versioned by block range, so any block up to the head can be read. Null
   * when that block is not indexed yet, or nothing is.
   */
  async stakeAt({
    chainId,
    provider,
    block,
  }: {
    chainId: number
    provider: Address
    block?: bigint
  }): Promise<StakeAt | null> {
    const wanted = block === undefined || block > INT8_MAX ? null : block.toString()
    const rows = await this.run(sql`
      with b as (
        select coalesce(${wanted}::int8, block_number) as number from sync_state
        where chain_id = ${chainId} and coalesce(${wanted}::int8, block_number) <= block_number
      )
      select b.number::text as number, p.stake::text as stake, n.min_stake::text as min_stake
      from b
      left join provider p on p.id = ${provider.toLowerCase()} and p.block_from <= b.number
        and (p.block_to is null or p.block_to > b.number)
      left join network n on n.id = ${NETWORK_ID} and n.block_from <= b.number
        and (n.block_to is null or n.block_to > b.number)`)
    const r = rows[0]
    if (!r || (block !== undefined && wanted === null)) return null
    return {
      registered: r.stake !== null,
      stake: BigInt((r.stake as string | null) ?? 0),
      minStake: r.min_stake === null ? null : BigInt(r.min_stake as string),
      block: { number: BigInt(r.number as string) },
      source: 'the indexed state',
    }
  }

  /** The job's current version, or null when it is not indexed. */
  async job({ jobId }: { jobId: bigint }): Promise<IndexedJob | null> {
    const rows = await this.run(sql`
      select id, status, provider, client, model, input_hash, payment::text as payment, receipt_digest
      from job where id = ${jobId.toString()} and block_to is null`)
    const r = rows[0]
    if (!r) return null
    return {
      id: BigInt(r.id as string),
      status: r.status as IndexedJob['status'],
      provider: r.provider ? getAddress(r.provider as string) : null,
      client: getAddress(r.client as string),
      modelId: r.model as Hex,
      inputHash: r.input_hash as Hex,
      payment: BigInt(r.payment as string),
      receiptDigest: (r.receipt_digest as Hex | null) ?? null,
    }
  }

  private async run(statement: ReturnType<typeof sql>): Promise<Record<string, unknown>[]> {
    try {
      return await this.database.query(statement)
    } catch (error) {
      throw storeError(error)
    }
  }
}
