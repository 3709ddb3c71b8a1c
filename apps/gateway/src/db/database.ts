import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { type SQL, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import pg from 'pg'
import { acquireDataDirLock } from './data-dir-lock'
import * as schema from './schema'

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../migrations')

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

/** One database, Postgres or embedded PGlite, behind the same drizzle API. */
export interface Database {
  kind: 'postgres' | 'pglite'
  db: Db
  /** Runs raw SQL and returns its rows. */
  query<T = Record<string, unknown>>(statement: SQL): Promise<T[]>
  close(): Promise<void>
}

export interface DatabaseOptions {
  databaseUrl?: string
  dataDir: string
  /** Pool size for Postgres; the indexer opens its own dedicated connection besides. */
  poolSize?: number
  /** Per-statement timeout in ms (Postgres only). */
  statementTimeoutMs?: number
  /** Stops waiting for another process's PGlite lock. */
  signal?: AbortSignal
  /** Called once if another process holds the PGlite data folder. */
  onWait?: () => void
}

// Return int8 as strings so block numbers above 2^53 survive; code converts to bigint.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v)

/** Opens node-postgres when a URL is given, PGlite in `dataDir` otherwise, and applies the migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl ? await openPostgres(options) : await openPglite(options.dataDir, options)
  return database
}

async function openPostgres(options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  })
  pool.on('error', (err) => console.error(`postgres pool error: ${err.message}`))
  const db = drizzlePg(pool, { schema }) as unknown as Db
  await migratePg(db as never, { migrationsFolder: MIGRATIONS_DIR })
  return {
    kind: 'postgres',
    db,
    query: async <T>(statement: SQL) => ((await db.execute(statement)) as unknown as { rows: T[] }).rows,
    close: () => pool.end(),
  }
}

async function openPglite(dataDir: string, options: DatabaseOptions): Promise<Database> {
  await mkdir(dataDir, { recursive: true })
  const lock = await acquireDataDirLock({ dataDir, signal: options.signal, onWait: options.onWait })
  let client: PGlite | undefined
  let db: Db
  try {
    // int8 as strings, as node-postgres is set up above, so both drivers hand back the same values.
    client = await PGlite.create(path.join(dataDir, 'pglite'), { parsers: { 20: (v: string) => v } })
    db = drizzlePglite(client, { schema }) as unknown as Db
    await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR })
  } catch (error) {
    // Without this the lockfile would name a live process (this one) and the next open would wait forever.
    await client?.close().catch(() => {})
    await lock.release()
    throw error
  }
  const opened = client
  return {
    kind: 'pglite',
    db,
    query: async <T>(statement: SQL) => ((await db.execute(statement)) as unknown as { rows: T[] }).rows,
    close: async () => {
      await opened.close()
      await lock.release()
    },
  }
}

/** Creates a throwaway Postgres database on the server of `adminUrl`, for one test file or benchmark. */
export async function createScratchDatabase(adminUrl: string) {
  const name = `cg_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

export { sql }
