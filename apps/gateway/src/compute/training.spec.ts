import { hashBytes } from '@computegraph/contracts/receipts'
import { InferenceEngine } from '@computegraph/gpu-worker/inference-engine'
import { parseModelEntry } from '@computegraph/gpu-worker/model-manifest'
import { createClient } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ComputeNetwork, startComputeNetwork } from './testing/compute-harness'

interface Update {
  id: string
  status: string
  epoch: number | null
  epochs: number | null
  loss: number | null
  model: { id: string; name: string } | null
  worker: string | null
  error: string | null
}

let cn: ComputeNetwork

beforeAll(async () => {
  cn = await startComputeNetwork({ providers: 1 })
  cn.startWorker({ provider: 1 })
  await cn.waitForWorkers(1)
}, 120_000)

afterAll(async () => {
  await cn?.close()
})

/** Subscribes to a training job over graphql-ws and resolves with every update until the subscription completes. */
function follow(id: string): Promise<Update[]> {
  const client = createClient({
    url: cn.gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  })
  const updates: Update[] = []
  return new Promise((resolve, reject) => {
    client.subscribe<{ trainingJob: Update }>(
      {
        query: `subscription { trainingJob(id: "${id}") { id status epoch epochs loss model { id name } worker error } }`,
      },
      {
        next: (r) =>
          r.errors ? reject(new Error(JSON.stringify(r.errors))) : updates.push(r.data?.trainingJob as Update),
        error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
        complete: () => {
          void client.dispose()
          resolve(updates)
        },
      },
    )
  })
}

describe('training through the gateway', () => {
  it('trains on a worker with progress per epoch, then serves the trained model at once', async () => {
    const { body } = await cn.gateway.query<{ train: Update }>(
      `mutation { train(input: { kind: "logistic", name: "direction-small", epochs: 4, seed: 11,
        dataset: { kind: "generated", name: "market-direction", rows: 400, seed: 3 } }) { id status } }`,
    )
    expect(body.errors).toBeUndefined()
    const id = body.data?.train.id as string
    const updates = await follow(id)
    const done = updates[updates.length - 1] as Update
    expect(done.status, JSON.stringify(updates)).toBe('completed')
    expect(done.worker).toBe(cn.providers[0]?.address.toLowerCase())
    const epochs = updates.filter((u) => u.status === 'running' && u.epoch !== null).map((u) => u.epoch)
    expect(epochs).toEqual([...new Set(epochs)].sort((a, b) => (a as number) - (b as number)))
    expect(epochs.at(-1)).toBe(4)

    const stored = (await cn.get(`/v1/requests/${id}`)).body as unknown as {
      model: { id: string; entry: unknown; bytesB64: string }
    }
    const bytes = new Uint8Array(Buffer.from(stored.model.bytesB64, 'base64'))
    expect(hashBytes(bytes)).toBe(done.model?.id)

    const rows = [[0.01, 0.02, -0.03, 0.9, 1.0, 0.9, 0.01, 51]]
    const served = await cn.post('/v1/infer', { model: 'direction-small', input: rows })
    expect(served.status, JSON.stringify(served.body)).toBe(200)
    const engine = await InferenceEngine.create({
      device: 'cpu',
      models: [{ entry: parseModelEntry(stored.model.entry), bytes }],
    })
    const direct = await engine.infer({
      modelId: done.model?.id as string,
      input: { dtype: 'float32', shape: [1, 8], data: Float32Array.from(rows.flat()) },
    })
    await engine.close()
    expect(Float32Array.from((served.body.output as { data: number[] }).data)).toEqual(direct.output.data)
  })

  it('refuses an invalid training task, naming the field', async () => {
    const { body } = await cn.gateway.query(
      'mutation { train(input: { kind: "forest", dataset: { kind: "generated", name: "market-direction" } }) { id } }',
    )
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(body.errors?.[0]?.message).toMatch(/kind/)
    const inline = await cn.gateway.query(
      'mutation { train(input: { kind: "logistic", dataset: { kind: "inline", features: [[1, 2], [3, 4]], labels: [0, 2] } }) { id } }',
    )
    expect(inline.body.errors?.[0]?.message).toMatch(/labels of a logistic model must all be 0 or 1/)
  })
})
