import { receiptDomain } from '@computegraph/contracts/receipts'
import { hashInferenceOutput, hashInferenceRequest } from '@computegraph/gpu-worker/canonical-bytes'
import type { InferMessage } from '@computegraph/gpu-worker/protocol'
import { ReceiptSigner } from '@computegraph/gpu-worker/receipt-signer'
import type { Tensor } from '@computegraph/gpu-worker/tensor'
import type { LocalAccount } from 'viem'
import {
  connectRawWorker,
  helloFor,
  RAW_RUNTIME_ID,
  type RawWorker,
} from '../../apps/gateway/src/compute/testing/raw-worker'

/**
 * The workers a hostile or broken provider runs: `silent` is admitted and answers pings but never a task; `wrong`
 * answers every task with an output other than the one its (validly signed) receipt commits to; `garbage` sends
 * frames that are not the protocol, once before its hello and then all the time after being admitted.
 */
export type RogueKind = 'silent' | 'wrong' | 'garbage'
export const ROGUE_KINDS: readonly RogueKind[] = ['silent', 'wrong', 'garbage']

export interface RogueWorker {
  kind: RogueKind
  /** Tasks the gateway sent it. */
  tasks(): number
  close(): void
}

const GARBAGE = [
  '{',
  'null',
  '{"type":"result","requestId":7}',
  '\u0000\u0001\u0002',
  JSON.stringify({ type: 'x'.repeat(4096) }),
]

/** Connects a rogue of `kind` to `workersUrl` with `signer`, a staked provider's key, and waits until it is admitted. */
export async function connectRogueWorker({
  kind,
  workersUrl,
  signer,
}: {
  kind: RogueKind
  workersUrl: string
  signer: LocalAccount
}): Promise<RogueWorker> {
  let tasks = 0
  const timers: NodeJS.Timeout[] = []
  const sockets: RawWorker[] = []
  if (kind === 'garbage') {
    // Before authentication: the gateway must close this one without a trace of it in the pool.
    const early = await connectRawWorker(workersUrl)
    sockets.push(early)
    for (const frame of GARBAGE) early.ws.send(frame)
  }
  const raw = await connectRawWorker(workersUrl)
  sockets.push(raw)
  raw.send(await helloFor({ signer, challenge: raw.challenge }))
  await raw.next('welcome')
  const domain = receiptDomain({ chainId: raw.challenge.chainId, jobMarket: raw.challenge.jobMarket })
  const receipts = new ReceiptSigner({ account: signer, ttlSeconds: 3_600 })
  raw.onMessage((m) => {
    if (m.type === 'ping' && kind !== 'garbage') {
      raw.send({
        type: 'pong',
        id: m.id,
        sentAt: m.sentAt,
        load: { queuedRequests: 0, queuedRows: 0, inFlight: tasks, concurrency: 4, training: 0 },
      })
    }
    if (m.type !== 'infer') return
    tasks++
    if (kind === 'wrong') void answerWrong({ raw, message: m, receipts, domain })
  })
  if (kind === 'garbage') {
    let i = 0
    timers.push(setInterval(() => raw.ws.send(GARBAGE[i++ % GARBAGE.length] as string), 250))
  }
  return {
    kind,
    tasks: () => tasks,
    close() {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.close()
    },
  }
}

/** A signed receipt over one output, sent with another: only a gateway that re-hashes what it forwards notices. */
async function answerWrong({
  raw,
  message,
  receipts,
  domain,
}: {
  raw: RawWorker
  message: InferMessage
  receipts: ReceiptSigner
  domain: ReturnType<typeof receiptDomain>
}) {
  const rows = message.input.shape[0] ?? 1
  const claimed: Tensor = { dtype: 'float32', shape: [rows, 1], data: new Float32Array(rows).fill(0.5) }
  const sent: Tensor = { dtype: 'float32', shape: [rows, 1], data: new Float32Array(rows).fill(0.25) }
  const { json, signature } = await receipts.sign({
    domain,
    fields: {
      requestHash: hashInferenceRequest(message),
      outputHash: hashInferenceOutput({ output: claimed }),
      modelId: message.modelId,
      runtimeId: RAW_RUNTIME_ID,
      requester: message.requester,
      jobId: BigInt(message.jobId),
      units: BigInt(rows),
      price: BigInt(message.price),
    },
  })
  raw.send({
    type: 'result',
    requestId: message.requestId,
    output: sent,
    receipt: json,
    signature,
    timings: { queuedMs: 0, runMs: 0, totalMs: 0 },
    batch: { rows, requests: 1 },
  })
}
