import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MANIFEST_FILE } from './model-manifest'
import { buildShippedModels } from './shipped-models'

/** `npm run models -w @computegraph/gpu-worker`: rebuilds gpu-worker/models from seeds, checking determinism. */
const dir = process.argv[2] ?? fileURLToPath(new URL('../models', import.meta.url))
const started = performance.now()
const build = await buildShippedModels({ verifyDeterminism: true, log: (line) => console.log(line) })
await mkdir(dir, { recursive: true })
for (const { file, bytes } of build.files) await writeFile(join(dir, file), bytes)
await writeFile(join(dir, MANIFEST_FILE), build.manifestText)
console.log(
  `wrote ${build.files.length} models and ${MANIFEST_FILE} to ${dir} in ${Math.round(performance.now() - started)} ms`,
)
