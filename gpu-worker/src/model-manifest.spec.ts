import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashBytes } from '@computegraph/contracts/receipts'
import { afterEach, describe, expect, it } from 'vitest'
import { NonRetryableError } from './errors'
import { loadModelDirectory, parseManifest, verifyModelBytes } from './model-manifest'

const SHIPPED = fileURLToPath(new URL('../models', import.meta.url))
const temporary: string[] = []

async function copyOfShipped(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-models-'))
  temporary.push(dir)
  await cp(SHIPPED, dir, { recursive: true })
  return dir
}

afterEach(async () => {
  for (const dir of temporary.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe('loadModelDirectory', () => {
  it('loads the shipped models, each under the keccak256 of its bytes', async () => {
    const models = await loadModelDirectory({ dir: SHIPPED })
    expect(models.map((m) => m.entry.name).sort()).toEqual(['price-direction-logistic', 'volatility-mlp'])
    for (const { entry, bytes } of models) {
      expect(entry.id).toBe(hashBytes(bytes))
      expect(entry.sizeBytes).toBe(bytes.length)
      // Commit-size small.
      expect(bytes.length).toBeLessThan(16 * 1024)
    }
  })

  it('refuses a model file changed by one byte, naming the file and both hashes', async () => {
    const dir = await copyOfShipped()
    const file = join(dir, 'volatility-mlp.onnx')
    const bytes = await readFile(file)
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x01
    await writeFile(file, bytes)
    const error = await loadModelDirectory({ dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NonRetryableError)
    expect((error as NonRetryableError).code).toBe('MODEL_INTEGRITY')
    expect((error as Error).message).toMatch(
      new RegExp(
        `model file .*volatility-mlp.onnx hashes to ${hashBytes(bytes)} but is declared as model 0x[0-9a-f]{64}`,
      ),
    )
  })

  it('refuses a manifest whose entry is malformed, naming the field', async () => {
    const dir = await copyOfShipped()
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
    manifest.models[1].input.shape = ['batch', -8]
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
    await expect(loadModelDirectory({ dir })).rejects.toThrow(
      'invalid model manifest: models[1].input.shape must be a non-empty array of positive integers or names, got ["batch",-8]',
    )
  })

  it('says which manifest is missing', async () => {
    await expect(loadModelDirectory({ dir: '/nonexistent/models' })).rejects.toThrow(
      'cannot read the model manifest /nonexistent/models/manifest.json',
    )
  })
})

describe('parseManifest', () => {
  it('refuses the same model listed twice', async () => {
    const manifest = JSON.parse(await readFile(join(SHIPPED, 'manifest.json'), 'utf8'))
    manifest.models.push(manifest.models[0])
    expect(() => parseManifest(manifest)).toThrow(`lists model ${manifest.models[0].id} twice`)
  })
})

describe('verifyModelBytes', () => {
  it('accepts bytes under their own hash in either hex case', () => {
    const bytes = new TextEncoder().encode('not really onnx')
    expect(() =>
      verifyModelBytes({ bytes, id: hashBytes(bytes).toUpperCase().replace('0X', '0x') as `0x${string}`, source: 'x' }),
    ).not.toThrow()
  })
})
