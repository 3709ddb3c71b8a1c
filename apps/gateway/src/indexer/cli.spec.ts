import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { writeDeployment } from '@computegraph/contracts/deploy'
import { type LocalNetwork, startLocalNetwork } from '@computegraph/contracts/fixture'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnIndexer } from './testing/indexer-process'

/** Runs the indexer CLI to its exit and returns what it printed. */
async function runToExit(env: Record<string, string>) {
  const p = spawnIndexer(env)
  const code = await p.exited
  return { code, output: p.lines.join('\n') }
}

describe('the indexer CLI with bad configuration', () => {
  let net: LocalNetwork
  let dir: string
  let deploymentFile: string

  beforeAll(async () => {
    net = await startLocalNetwork()
    dir = await mkdtemp(path.join(tmpdir(), 'cg-cli-'))
    deploymentFile = path.join(dir, 'deployment.json')
    await writeDeployment(deploymentFile, net.deployment)
  })
  afterAll(async () => {
    await net?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const noStack = (output: string) => expect(output).not.toMatch(/^\s+at /m)

  it('names a malformed variable and its value, without a stack trace', async () => {
    const { code, output } = await runToExit({ RPC_URL: 'htp://x', DEPLOYMENT_FILE: deploymentFile, DATA_DIR: dir })
    expect(code).toBe(2)
    expect(output).toContain('Invalid RPC_URL="htp://x": expected an http or https URL')
    noStack(output)
  })

  it('says the deployment file is required', async () => {
    const { code, output } = await runToExit({ RPC_URL: net.anvil.rpcUrl, DATA_DIR: dir, DEPLOYMENT_FILE: '' })
    expect(code).toBe(2)
    expect(output).toContain('DEPLOYMENT_FILE is required to index')
    noStack(output)
  })

  it('names a deployment file that is missing or invalid', async () => {
    const missing = await runToExit({
      RPC_URL: net.anvil.rpcUrl,
      DATA_DIR: dir,
      DEPLOYMENT_FILE: path.join(dir, 'nope.json'),
    })
    expect(missing.code).toBe(2)
    expect(missing.output).toMatch(/cannot read deployment file .*nope\.json/)
    const bad = path.join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ ...net.deployment, chainId: -1 }))
    const invalid = await runToExit({ RPC_URL: net.anvil.rpcUrl, DATA_DIR: dir, DEPLOYMENT_FILE: bad })
    expect(invalid.code).toBe(2)
    expect(invalid.output).toContain('chainId must be a positive integer, got -1')
    noStack(missing.output + invalid.output)
  })

  it('refuses a deployment of another chain than the RPC serves', async () => {
    const other = path.join(dir, 'other-chain.json')
    await writeFile(other, JSON.stringify({ ...net.deployment, chainId: 8453 }))
    const { code, output } = await runToExit({ RPC_URL: net.anvil.rpcUrl, DATA_DIR: dir, DEPLOYMENT_FILE: other })
    expect(code).toBe(2)
    expect(output).toContain(`RPC chain id 31337 does not match the deployment's 8453`)
    noStack(output)
  })
})
