import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { readDeployment } from '@computegraph/contracts/deploy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DATA_SOURCES,
  DEFAULT_DEPLOYMENT,
  DEFAULT_MANIFEST,
  eventHandlers,
  IGNORED_EVENTS,
  readAbi,
  renderManifest,
} from '../scripts/manifest'

// @types/node declares WebAssembly's types but not the runtime API node has.
declare const WebAssembly: {
  Module: { new (bytes: Uint8Array): object; exports(module: object): { name: string; kind: string }[] }
}

const SUBGRAPH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REPO_DIR = path.resolve(SUBGRAPH_DIR, '..')
const GRAPH_CLI = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@graphprotocol/graph-cli/package.json')),
  'bin/run.js',
)
// AssemblyScript compiles three mappings in about 10 s; a loaded CI machine may take several times that.
const BUILD_TIMEOUT = 180_000

async function graph(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(process.execPath, [GRAPH_CLI, ...args, '--skip-migrations'], {
      cwd,
      // The update check would ask the npm registry for graph-cli's latest version on every run.
      env: { ...process.env, GRAPH_SKIP_NEW_VERSION_CHECK: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`graph ${args.join(' ')} failed:\n${stdout}\n${stderr}`, { cause: error })
  }
}

/**
 * Copies what the manifest references into `root`, laid out as in the repository, so that codegen and build write
 * nowhere in the work tree; graph-cli finds graph-ts through the linked node_modules.
 */
async function copySubgraph(root: string): Promise<string> {
  const dir = path.join(root, 'subgraph')
  for (const file of ['subgraph.yaml', 'schema.graphql', 'src']) {
    await cp(path.join(SUBGRAPH_DIR, file), path.join(dir, file), { recursive: true })
  }
  await cp(path.join(REPO_DIR, 'contracts/generated/abis'), path.join(root, 'contracts/generated/abis'), {
    recursive: true,
  })
  await symlink(path.join(REPO_DIR, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  return dir
}

describe('subgraph manifest', () => {
  it('is the committed subgraph.yaml when rendered from the example deployment', async () => {
    const rendered = renderManifest({
      deployment: await readDeployment(DEFAULT_DEPLOYMENT),
      source: 'deployments/localhost.json',
    })
    expect(rendered).toBe(await readFile(DEFAULT_MANIFEST, 'utf8'))
  })

  it('handles every event of the indexed contracts except access-control bookkeeping', () => {
    for (const { contract } of DATA_SOURCES) {
      const events = readAbi(contract).filter((item) => item.type === 'event' && !IGNORED_EVENTS.has(item.name ?? ''))
      expect(eventHandlers(readAbi(contract)).map((h) => h.handler)).toEqual(events.map((e) => `handle${e.name}`))
    }
    const handled = DATA_SOURCES.flatMap(({ contract }) => eventHandlers(readAbi(contract)).map((h) => h.handler))
    expect(handled).toHaveLength(18)
    expect(handled).toContain('handleDisputeResolved')
    expect(handled).toContain('handleRewardClaimed')
  })

  it('takes addresses and start blocks from the deployment, and the network from its chain id', async () => {
    const deployment = await readDeployment(DEFAULT_DEPLOYMENT)
    deployment.chainId = 8453
    deployment.contracts.JobMarket = { address: '0x00000000000000000000000000000000000000aa', startBlock: 123456 }
    const manifest = renderManifest({ deployment })
    expect(manifest).toContain('network: base\n')
    expect(manifest).toContain('address: "0x00000000000000000000000000000000000000aa"\n      abi: JobMarket\n')
    expect(manifest).toContain('startBlock: 123456\n')
  })

  it('asks for --network when the chain id has no known graph-node name', async () => {
    const deployment = { ...(await readDeployment(DEFAULT_DEPLOYMENT)), chainId: 999_999 }
    expect(() => renderManifest({ deployment })).toThrow('no graph-node network name known for chainId 999999')
    expect(renderManifest({ deployment, network: 'my-chain' })).toContain('network: my-chain\n')
  })
})

describe('graph codegen and graph build', () => {
  let root: string
  let outDir: string

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'computegraph-subgraph-'))
    const dir = await copySubgraph(root)
    outDir = path.join(dir, 'build')
    await graph(dir, ['codegen'])
    await graph(dir, ['build', '--output-dir', outDir])
  }, BUILD_TIMEOUT)

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('writes the built manifest and schema', async () => {
    const manifest = await readFile(path.join(outDir, 'subgraph.yaml'), 'utf8')
    expect(manifest).toContain('specVersion: 1.3.0')
    expect(existsSync(path.join(outDir, 'schema.graphql'))).toBe(true)
  })

  it.each(DATA_SOURCES.map((ds) => ds.contract))(
    'compiles a WASM module for %s exporting every handler',
    async (name) => {
      const wasm = path.join(outDir, name, `${name}.wasm`)
      expect(existsSync(wasm)).toBe(true)
      const exported = WebAssembly.Module.exports(new WebAssembly.Module(await readFile(wasm))).map((e) => e.name)
      for (const { handler } of eventHandlers(readAbi(name))) expect(exported).toContain(handler)
    },
  )
})
