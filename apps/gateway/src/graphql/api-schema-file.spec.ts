import { GraphQLSchemaHost } from '@nestjs/graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lexicographicSortSchema, printSchema } from './graphql-js'
import { startTestGateway, type TestGateway } from './testing/gateway'

/** The API's schema as served, checked in so that a change to it shows in review and clients can generate from it. */
const API_SCHEMA_FILE = '../../schema.graphql'

describe('the checked-in API schema (apps/gateway/schema.graphql)', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ kind: 'pglite' })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
  })

  it('is the schema the gateway serves: regenerate it with `npm run schema` after changing the API', async () => {
    const served = gw.app.get(GraphQLSchemaHost).schema
    const printed = `${printSchema(lexicographicSortSchema(served))}\n`
    // Under CI a difference fails; locally `vitest -u` (what `npm run schema` runs) rewrites the file.
    await expect(printed).toMatchFileSnapshot(API_SCHEMA_FILE)
  })
})
