import { sql } from 'drizzle-orm'
import type { Database } from '../../db/database'

/**
 * Fills the entity tables as a busy month would: `jobs` jobs of two versions each (created OPEN at block 3j, replaced at
 * 3j + 1 by their current status), `stakeEvents` stake events of one provider at blocks 3s and as many versions of
 * it, 20 other providers, 200 clients and 10 models. SQL alone: writing 300,000 versions through the indexer would take
 * minutes. A chain's own rows stay: ids of jobs start at `firstJob`, and addresses are made up.
 */
export async function seedLargeIndex({
  database,
  jobs,
  stakeEvents,
  busy,
  firstJob = 1,
  head,
}: {
  database: Database
  jobs: number
  stakeEvents: number
  /** The provider that gets a quarter of the jobs, every stake event and one version per stake event. */
  busy: string
  /** The first job id, past those a chain's activity created. */
  firstJob?: number
  /**
   * The chain's head, when it is lower than the 3 blocks per row the rows would span: block numbers are scaled into
   * [1, head], and versions whose range shrinks to nothing are never live, as on a chain with many events per block.
   */
  head?: number
}) {
  const span = 3 * (Math.max(firstJob + jobs, stakeEvents) + 1)
  const b = (x: string) => (head === undefined || head >= span ? x : `(1 + (${x})::int8 * ${head - 1} / ${span})`)
  const addr = (n: string) => `'0x' || lpad(to_hex(${n}), 40, '0')`
  await database.query(
    sql.raw(`insert into provider (id, metadata_uri, stake, pending_unstake, unlock_at, slashed_total,
      jobs_assigned, jobs_completed, jobs_failed, rewards_earned, registered_at, registered_at_block, block_from, block_to)
    select ${addr('p')}, 'ipfs://p', 1000, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, null from generate_series(1, 20) p
    union all select '${busy}', 'ipfs://busy', v, 0, 0, 0, 0, 0, 0, 0, 1, 1, ${b('v * 3')},
      case when v = ${stakeEvents} then null else ${b('(v + 1) * 3')} end from generate_series(1, ${stakeEvents}) v`),
  )
  await database.query(
    sql.raw(`insert into client (id, jobs_created, total_escrowed, total_paid, total_refunded,
      block_from, block_to) select ${addr('c')}, 0, 0, 0, 0, 1, null from generate_series(1, 200) c`),
  )
  await database.query(
    sql.raw(`insert into model (id, owner, uri, job_count, registered_at, block_from, block_to)
    select '0x' || lpad(to_hex(m), 64, '0'), ${addr('m')}, 'ipfs://m', 0, 1, 1, null from generate_series(1, 10) m`),
  )
  // Each job is created OPEN at block 3j and replaced one block later by its current version.
  const job = (status: string, from: string, to: string) => `select j::text, ${addr('1 + j % 200')},
      '0x' || lpad(to_hex(1 + j % 10), 64, '0'), 'INFERENCE', ${status},
      case when j % 4 = 0 then '${busy}' else ${addr('1 + j % 20')} end, (j * 7919) % 100000 * 1000, '0x00', 0,
      1000000 + j * 12, j * 3, 1000000 + j * 12, ${from}, ${to} from generate_series(${firstJob}, ${firstJob} + ${jobs} - 1) j`
  await database.query(
    sql.raw(`insert into job (id, client, model, kind, status, provider, payment, input_hash,
      deadline, created_at, created_at_block, updated_at, block_from, block_to)
    ${job("'OPEN'", b('j * 3'), b('j * 3 + 1'))}
    union all ${job("(array['OPEN','ASSIGNED','COMPLETED','CANCELLED'])[1 + j % 4]", b('j * 3 + 1'), 'null')}`),
  )
  await database.query(
    sql.raw(`insert into stake_event (id, provider, type, amount, stake_after, pending_unstake_after,
      timestamp, block_number, transaction_hash, block_from, block_to)
    select '0x' || lpad(to_hex(s), 64, '0') || '00000000', '${busy}', 'STAKED', 1, s, 0, 1000000 + s * 36, s * 3,
      '0x' || lpad(to_hex(s), 64, '0'), ${b('s * 3')}, null from generate_series(1, ${stakeEvents}) s`),
  )
  await database.query(sql`analyze`)
}
