import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { Indexer } from './indexer'
import { IndexerRepository } from './indexer.repository'
import type { BlockHeader, ChainRpc } from './rpc'

const HOUR = 3600n
const hash = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`
const header = (number: bigint, timestamp: bigint): BlockHeader => ({
  number,
  hash: hash(number),
  parentHash: hash(number - 1n),
  timestamp,
})

describe('the indexer retrying a failed write', () => {
  it('logs the database’s own error, not only the statement drizzle ran', async () => {
    const db = await openTestDatabase('postgres')
    try {
      const model = loadSchemaModel()
      const repository = new IndexerRepository(db.database.db, model)
      const start = 1_800_000_000n - (1_800_000_000n % HOUR)
      // The cursor at block 10; block 11 closes its hour, whose rollup insert fails: its table is gone.
      const chain = [header(10n, start + 60n), header(11n, start + HOUR)]
      const [cursor, head] = chain as [BlockHeader, BlockHeader]
      await repository.writeBatch({
        changes: [],
        events: [],
        blocks: [cursor],
        state: {
          chainId: 1,
          blockNumber: cursor.number,
          blockHash: cursor.hash,
          blockTimestamp: cursor.timestamp,
          finalizedBlock: 0n,
        },
      })
      await db.database.query(sql`drop table network_stat_hour`)
      // The RPC is stubbed: this test is about the log line, and the failing write needs only these two headers.
      const rpc = {
        getBlock: async (at: bigint | 'latest') => (at === 'latest' ? head : chain.find((b) => b.number === at)),
        getLogsByBlockHash: async () => [],
      } as unknown as ChainRpc
      const warnings: string[] = []
      const controller = new AbortController()
      const indexer = new Indexer({
        repository,
        rpc,
        chainId: 1,
        contracts: [{ name: 'JobMarket', address: hash(1n).slice(0, 42), startBlock: 0n }],
        env: { minStake: 1n },
        config: loadConfig({ RPC_URL: 'http://127.0.0.1:9', FINALITY: '1000', POLL_INTERVAL_MS: '20' }).indexer,
        model,
        logger: {
          log() {},
          error() {},
          warn(message) {
            warnings.push(message)
            controller.abort()
          },
        },
      })
      await indexer.run(controller.signal)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(
        /^indexer: Failed query: with todo as .*: relation "network_stat_hour" does not exist/,
      )
      expect(warnings[0]).toContain('(SQLSTATE 42P01)')
      // The statement is shortened and its parameters (a JSON batch) left out.
      expect(warnings[0]).not.toContain('params:')
      expect(warnings[0]).toMatch(/; retrying \(attempt 1\)$/)
    } finally {
      await db.database.close()
      await db.cleanup()
    }
  })
})
