import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type Database, openDatabase } from './database'

export type DatabaseKind = 'postgres' | 'pglite'

/** The Postgres server tests use; CI and developer machines run one on 127.0.0.1:5432. */
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

/** A database of its own for one test file: a scratch database on the local server, or PGlite in a temp folder. */
export async function openTestDatabase(kind: DatabaseKind): Promise<{
  database: Database
  /** Opens the same database again, as a restarted process would. */
  reopen(): Promise<Database>
  url?: string
  dataDir: string
  cleanup(): Promise<void>
}> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cg-test-'))
  if (kind === 'pglite') {
    const database = await openDatabase({ dataDir })
    return {
      database,
      dataDir,
      reopen: () => openDatabase({ dataDir }),
      cleanup: async () => {
        await rm(dataDir, { recursive: true, force: true })
      },
    }
  }
  const scratch = await createScratchDatabase(TEST_POSTGRES_URL)
  const database = await openDatabase({ databaseUrl: scratch.url, dataDir })
  return {
    database,
    url: scratch.url,
    dataDir,
    reopen: () => openDatabase({ databaseUrl: scratch.url, dataDir }),
    cleanup: async () => {
      await scratch.drop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
