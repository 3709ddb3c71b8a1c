import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { compileContracts, GENERATED_DIR, renderArtifacts } from '../src/compile'
import { CONTRACT_NAMES } from '../src/names'

// solc's wasm takes seconds per run, so both compilations happen once for the whole file.
describe('compiled artifacts', () => {
  let first: Record<string, string>
  let second: Record<string, string>

  beforeAll(async () => {
    first = renderArtifacts(await compileContracts())
    second = renderArtifacts(await compileContracts())
  }, 60_000)

  it('are byte for byte the same on every compilation', () => {
    expect(Object.keys(second)).toEqual(Object.keys(first))
    for (const [file, content] of Object.entries(first))
      expect({ file, content: second[file] }).toEqual({ file, content })
  })

  it('are committed in contracts/generated exactly as the sources compile now (run npm run compile if not)', async () => {
    for (const [file, content] of Object.entries(first)) {
      const committed = await readFile(path.join(GENERATED_DIR, file), 'utf8')
      expect(committed === content, `contracts/generated/${file} is stale`).toBe(true)
    }
  })

  it('leave no ABI in contracts/generated for a contract that no longer exists', async () => {
    const jsonFiles = (await readdir(path.join(GENERATED_DIR, 'abis'))).sort()
    expect(jsonFiles).toEqual(CONTRACT_NAMES.map((n) => `${n}.json`).sort())
    expect(Object.keys(first).sort()).toEqual(['abis.ts', ...jsonFiles.map((f) => `abis/${f}`)].sort())
  })

  it('carry bytecode for every contract', () => {
    for (const name of CONTRACT_NAMES) {
      const lower = name.charAt(0).toLowerCase() + name.slice(1)
      expect(first['abis.ts']).toMatch(new RegExp(`export const ${lower}Bytecode = '0x[0-9a-f]{200,}' as const`))
    }
  })
})
