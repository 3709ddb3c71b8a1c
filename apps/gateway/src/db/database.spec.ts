import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from './database'

describe('openDatabase on PGlite', () => {
  it('releases the data folder when opening fails, so a later open does not wait on itself', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cg-db-'))
    try {
      // A file where PGlite expects its directory: opening must fail.
      await writeFile(path.join(dataDir, 'pglite'), 'not a database')
      await expect(openDatabase({ dataDir })).rejects.toThrow()
      expect(existsSync(path.join(dataDir, 'computegraph.lock'))).toBe(false)
      await expect(openDatabase({ dataDir })).rejects.toThrow()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
