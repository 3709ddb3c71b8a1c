import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '@computegraph/contracts/anvil'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoChain, startDemoChain } from './demo-chain'
import { type Lifeline, startLifeline } from './lifeline'

const quiet = { log: () => {}, warn: () => {}, error: () => {} }
let dataDir: string
let lifeline: Lifeline
let running: DemoChain | undefined

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cg-demo-chain-'))
  lifeline = startLifeline()
})

afterAll(async () => {
  await running?.stop()
  lifeline?.close()
  await rm(dataDir, { recursive: true, force: true })
})

const start = async () => {
  running = await startDemoChain({ dataDir, anvilPort: await freePort(), seedSteps: 0, lifeline, logger: quiet })
  return running
}

describe('the demo chain', () => {
  it('never mines a block before its parent after a restart, when the stored chain ran ahead of the wall clock', async () => {
    const first = await start()
    // Ten hours ahead, as the demo's activity once left it.
    await first.net.testClient.increaseTime({ seconds: 36_000 })
    await first.net.testClient.mine({ blocks: 1 })
    const stored = await first.net.publicClient.getBlock()
    await first.stop()
    running = undefined

    const again = await start()
    await again.net.testClient.mine({ blocks: 1 })
    const next = await again.net.publicClient.getBlock()
    expect(next.number).toBeGreaterThan(stored.number)
    expect(next.timestamp).toBeGreaterThan(stored.timestamp)
  })
})
