import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MANIFEST_FILE } from './model-manifest'
import { buildShippedModels } from './shipped-models'

const SHIPPED = fileURLToPath(new URL('../models', import.meta.url))

describe('the shipped models', () => {
  it('rebuild from their seeds into files byte-identical to the committed ones', async () => {
    const build = await buildShippedModels()
    for (const { file, bytes } of build.files) {
      const committed = await readFile(join(SHIPPED, file))
      expect(Buffer.from(bytes).equals(committed), `${file} differs from a rebuild: run npm run models`).toBe(true)
    }
    expect(build.manifestText).toBe(await readFile(join(SHIPPED, MANIFEST_FILE), 'utf8'))
  })
})
