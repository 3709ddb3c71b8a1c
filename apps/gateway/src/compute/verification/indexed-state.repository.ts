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
   * The provider's entity version and the Network's minStake at the newest indexed block whose timestamp is at most
   * `timestamp`. Every block where a provider's stake changed has an event, so it is in the `block` table; the
   * versions live at that block are the state the chain had then. Null when no block that early is indexed.
   */
  async stakeAt({
    chainId,
    provider,
    timestamp,
  }: {
    chainId: number
    provider: Address
    timestamp: bigint
  }): Promise<StakeAt | null> {
    const ts = (timestamp > INT8_MAX ? INT8_MAX : timestamp).toString()
    const rows = await this.run(sql`
      with b as (
        select number, timestamp from block where chain_id = ${chainId} and timestamp <= ${ts}::int8
        order by timestamp desc, number desc limit 1
      )
      select b.number::text as number, b.timestamp::text as timestamp, p.stake::text as stake,
        n.min_stake::text as min_stake
      from b
      left join provider p on p.id = ${provider.toLowerCase()} and p.block_from <= b.number
        and (p.block_to is null or p.block_to > b.number)
      left join network n on n.id = ${NETWORK_ID} and n.block_from <= b.number
        and (n.block_to is null or n.block_to > b.number)`)
    const r = rows[0]
    if (!r) return null
    return {
      registered: r.stake !== null,
      stake: BigInt((r.stake as string | null) ?? 0),
      minStake: r.min_stake === null ? null : BigInt(r.min_stake as string),
      block: { number: BigInt(r.number as string), timestamp: BigInt(r.timestamp as string) },
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
