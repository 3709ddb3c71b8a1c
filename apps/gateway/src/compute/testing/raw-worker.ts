import { readFileSync } from 'node:fs'
import path from 'node:path'
import { MANIFEST_FILE, parseManifest } from '@computegraph/gpu-worker/model-manifest'
import {
  type ChallengeMessage,
  challengeText,
  encodeMessage,
  type GatewayMessage,
  type HelloMessage,
  parseGatewayMessage,
  type WorkerMessage,
} from '@computegraph/gpu-worker/protocol'
import type { Address, Hex, LocalAccount } from 'viem'
import { WebSocket } from 'ws'
import { SHIPPED_MODELS_DIR } from '../model-catalog'

export const SHIPPED_MODELS = parseManifest(
  JSON.parse(readFileSync(path.join(SHIPPED_MODELS_DIR, MANIFEST_FILE), 'utf8')),
).models

/** A made-up runtime id for raw clients that never compute. */
export const RAW_RUNTIME_ID = `0x${'5'.repeat(64)}` as Hex

/**
 * A hello as the worker CLI sends it, answering `challenge` for `provider`, signed by `signer` (the provider's own key
 * unless a test forges it).
 */
export async function helloFor({
  signer,
  challenge,
  provider = signer.address,
  concurrency = 4,
  runtimeId = RAW_RUNTIME_ID,
}: {
  signer: LocalAccount
  challenge: ChallengeMessage
  provider?: Address
  concurrency?: number
  /** What the receipts of this worker will name (an InferenceEngine's `runtime.runtimeId` when it computes). */
  runtimeId?: Hex
}): Promise<HelloMessage> {
  return {
    type: 'hello',
    version: challenge.version,
    provider,
    challengeNonce: challenge.nonce,
    signature: await signer.signMessage({ message: challengeText({ challenge, provider }) }),
    device: { kind: 'cpu', name: 'raw test client', memoryBytes: 1 << 30 },
    runtime: { name: 'onnxruntime-node', version: 'test', executionProvider: 'cpu', runtimeId },
    models: SHIPPED_MODELS,
    concurrency,
    maxBatchSize: 1,
    maxWaitMs: 0,
    pricePerUnit: '0',
    training: { kinds: [], runtimeId: RAW_RUNTIME_ID },
    software: 'raw-worker test client',
  }
}

/** A bare WebSocket client on the gateway's worker path: every frame is the test's to choose. */
export interface RawWorker {
  ws: WebSocket
  /** The challenge this connection was sent. */
  challenge: ChallengeMessage
  received: GatewayMessage[]
  send(message: WorkerMessage): void
  /** The first message of `type` (already received or future). */
  next<T extends GatewayMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<GatewayMessage, { type: T }>>
  /** Calls `handler` for every message from now on (and for those already received). */
  onMessage(handler: (message: GatewayMessage) => void): void
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** Connects to the worker path from `localAddress` (any 127.0.0.0/8 address stands for another host). */
export async function connectRawWorker(
  url: string,
  { localAddress }: { localAddress?: string } = {},
): Promise<RawWorker> {
  const ws = new WebSocket(url, { localAddress })
  const received: GatewayMessage[] = []
  const handlers: ((m: GatewayMessage) => void)[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  ws.on('error', () => {})
  ws.on('message', (data) => {
    const message = parseGatewayMessage(data as Buffer)
    received.push(message)
    for (const h of [...handlers]) h(message)
  })
  const raw: RawWorker = {
    ws,
    challenge: undefined as unknown as ChallengeMessage,
    received,
    send: (message) => ws.send(encodeMessage(message)),
    next: (type, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const found = received.find((m) => m.type === type)
        if (found) return resolve(found as never)
        const timer = setTimeout(() => reject(new Error(`raw worker: no ${type} in ${timeoutMs} ms`)), timeoutMs)
        const handler = (m: GatewayMessage) => {
          if (m.type !== type) return
          clearTimeout(timer)
          handlers.splice(handlers.indexOf(handler), 1)
          resolve(m as never)
        }
        handlers.push(handler)
        void closed.then(() => {
          clearTimeout(timer)
          reject(new Error(`raw worker: connection closed before a ${type}`))
        })
      }),
    onMessage: (handler) => {
      for (const m of received) handler(m)
      handlers.push(handler)
    },
    closed,
    close: () => ws.close(),
  }
  raw.challenge = await raw.next('challenge')
  return raw
}

/** An upgrade the gateway answered with plain HTTP instead of a WebSocket: its status and JSON body. */
export function refusedUpgrade(
  url: string,
  { localAddress }: { localAddress?: string } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress })
    ws.on('open', () => {
      ws.terminate()
      reject(new Error('the gateway accepted the connection'))
    })
    ws.on('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (d: Buffer) => {
        text += d.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    ws.on('error', () => {})
  })
}

/**
 * A worker that is admitted and keeps its connection (answers every ping) but never answers a task: the rogue that
 * routing must see through. `tasks` lists what it was sent.
 */
export async function admitSilentWorker({ url, signer }: { url: string; signer: LocalAccount }) {
  const raw = await connectRawWorker(url)
  raw.send(await helloFor({ signer, challenge: raw.challenge }))
  const welcome = await raw.next('welcome')
  raw.onMessage((m) => {
    if (m.type === 'ping') {
      raw.send({
        type: 'pong',
        id: m.id,
        sentAt: m.sentAt,
        load: { queuedRequests: 0, queuedRows: 0, inFlight: 0, concurrency: 4, training: 0 },
      })
    }
  })
  return {
    raw,
    workerId: welcome.workerId,
    tasks: () => raw.received.filter((m) => m.type === 'infer'),
  }
}
