import { actions, type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { sql } from 'drizzle-orm'
import type { Account } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config'
import { loadSchemaModel } from '../db/schema-file'
import { openTestDatabase } from '../db/testing'
import { HandlerError } from './indexer'
import { createIndexer } from './indexer.factory'
import { IndexerRepository } from './indexer.repository'

describe('an event the handlers cannot apply', () => {
  let net: LocalNetwork
  let db: Awaited<ReturnType<typeof openTestDatabase>>

  beforeAll(async () => {
    net = await startLocalNetwork()
    db = await openTestDatabase('pglite')
  })
  afterAll(async () => {
    await db?.database.close()
    await db?.cleanup()
    await net?.stop()
  })

  it('stops indexing at that block and reports hasIndexingErrors', async () => {
    const provider = net.accounts[1] as Account
    await actions(net).onboardProvider(provider)
    // A database whose cursor is already past the provider's registration: its Staked event has no provider.
    const stakeBlock = await net.publicClient.getBlockNumber()
    const before = await net.publicClient.getBlock({ blockNumber: stakeBlock - 1n })
    const repository = new IndexerRepository(db.database.db, loadSchemaModel())
    const state = {
      chainId: net.deployment.chainId,
      blockNumber: before.number,
      blockHash: before.hash,
      blockTimestamp: before.timestamp,
      finalizedBlock: 0n,
    }
    await repository.writeBatch({
      changes: [],
      events: [],
      blocks: [
        { number: before.number, hash: before.hash, parentHash: before.parentHash, timestamp: before.timestamp },
      ],
      state,
    })
    const config = loadConfig({ RPC_URL: net.anvil.rpcUrl, FINALITY: '0', POLL_INTERVAL_MS: '20' })
    const indexer = createIndexer({ db: db.database.db, deployment: net.deployment, config: config.indexer })
    await expect(indexer.run(new AbortController().signal)).rejects.toThrow(HandlerError)
    const rows = await db.database.query<{ has_indexing_errors: boolean; block_number: string }>(
      sql`select has_indexing_errors, block_number::text from sync_state`,
    )
    expect(rows).toEqual([{ has_indexing_errors: true, block_number: String(before.number) }])
  })
})
