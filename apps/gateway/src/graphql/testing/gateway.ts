import 'reflect-metadata'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeDeployment } from '@computegraph/contracts/deploy'
import type { LocalNetwork } from '@computegraph/contracts/fixture'
import type { INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { AppModule } from '../../app.module'
import { loadConfig } from '../../config/config'
import type { Database } from '../../db/database'
import { createScratchDatabase } from '../../db/database'
import { DATABASE } from '../../db/db.module'
import { type DatabaseKind, TEST_POSTGRES_URL } from '../../db/testing'
import { IndexerService } from '../../indexer/indexer.service'
import { waitForHead } from '../../indexer/testing/harness'

export interface TestGateway {
  app: INestApplication
  url: string
  database: Database
  /** SQL statements the API ran since the last `resetStatements`, as text. */
  statements: string[]
  resetStatements(): void
  /** POSTs a GraphQL request and returns the HTTP status, headers and parsed body. */
  query<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: { data?: T; errors?: GraphqlErrorBody[] } }>
  close(): Promise<void>
}

export interface GraphqlErrorBody {
  message: string
  extensions?: { code?: string; [k: string]: unknown }
  path?: (string | number)[]
  locations?: unknown
}

/**
 * The real Nest app on a free loopback port, with its own database (a scratch Postgres database or PGlite in a temp
 * folder). With `net`, its indexer follows that chain and this waits until it has indexed the head.
 */
export async function startTestGateway({
  kind,
  net,
  env = {},
}: {
  kind: DatabaseKind
  net?: LocalNetwork
  env?: Record<string, string>
}): Promise<TestGateway> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cg-graphql-'))
  const scratch = kind === 'postgres' ? await createScratchDatabase(TEST_POSTGRES_URL) : undefined
  const deploymentFile = path.join(dir, 'deployment.json')
  if (net) await writeDeployment(deploymentFile, net.deployment)
  const config = loadConfig({
    DATA_DIR: path.join(dir, 'data'),
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...(net
      ? { RPC_URL: net.anvil.rpcUrl, DEPLOYMENT_FILE: deploymentFile, FINALITY: '3', POLL_INTERVAL_MS: '20' }
      : {}),
    ...env,
  })
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: ['error'] })
  const database = app.get<Database>(DATABASE)
  const statements: string[] = []
  const dialect = new PgDialect()
  // Counts what the API sends to the database: every read of the GraphQL layer goes through `query`.
  const query = database.query.bind(database)
  database.query = (<T>(statement: SQL) => {
    statements.push(dialect.sqlToQuery(statement).sql)
    return query<T>(statement)
  }) as Database['query']
  await app.listen(0, '127.0.0.1')
  const { port } = app.getHttpServer().address() as AddressInfo
  const url = `http://127.0.0.1:${port}/graphql`
  if (net) {
    const service = app.get(IndexerService)
    const deadline = Date.now() + 60_000
    while (!service.current) {
      if (Date.now() > deadline) throw new Error(`indexer did not start: ${service.status().error}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    await waitForHead(service.current, net)
    // The query indexes build in the background after catch-up; their statements would count as the API's.
    while (!['ready', 'failed'].includes(service.status().queryIndexes?.state ?? '')) {
      if (Date.now() > deadline) throw new Error(`query indexes not built: ${service.status().queryIndexes?.state}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return {
    app,
    url,
    database,
    statements,
    resetStatements: () => {
      statements.length = 0
    },
    async query(q, variables, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: q, variables }),
      })
      const text = await res.text()
      let body: { data?: never; errors?: GraphqlErrorBody[] }
      try {
        body = JSON.parse(text)
      } catch {
        throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 300)}`)
      }
      return { status: res.status, headers: res.headers, body }
    },
    async close() {
      await app.close()
      await scratch?.drop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
