import { EventEmitter } from 'node:events'
import { type ReceiptDomain, receiptDomain } from '@computegraph/contracts/receipts'
import type { Account, Address } from 'viem'
import WebSocket from 'ws'
import { describeError, NonRetryableError, RetryableError } from './errors'
import type { InferenceEngine } from './inference-engine'
import type { Logger } from './logger'
import { MODEL_KINDS } from './model-manifest'
import {
  type ChallengeMessage,
  checkChallenge,
  encodeMessage,
  type GatewayMessage,
  type HelloMessage,
  type InferMessage,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  parseGatewayMessage,
  signChallenge,
  type TrainMessage,
  type WorkerMessage,
} from './protocol'
import { ReceiptSigner } from './receipt-signer'
import { runInference, runTraining } from './task-runner'
import { TRAINING_RUNTIME_ID } from './training/training-runtime'

const SILENCE_FLOOR_MS = 10_000

export const WORKER_SOFTWARE = 'computegraph-gpu-worker/0.1.0'

export interface GatewayClientOptions {
  gatewayUrl: string
  account: Account
  engine: InferenceEngine
  log: Logger
  pricePerUnit?: bigint
  receiptTtlSeconds?: number
  /** Refuse gateways that announce another chain, JobMarket or address. */
  expect?: { chainId?: number; jobMarket?: Address; gatewayAddress?: Address }
  reconnect?: { initialDelayMs: number; maxDelayMs: number }
  /** Time allowed for the challenge and then the welcome to arrive after connecting. */
  handshakeTimeoutMs?: number
  /** TEST ONLY: share of inference outputs deliberately perturbed (see --fault-rate). */
  faultRate?: number
  /** Source of randomness for fault injection and reconnect jitter. */
  random?: () => number
  /** Training tasks run one at a time; others are refused as busy. */
  maxConcurrentTraining?: number
}

interface Task {
  kind: 'infer' | 'train'
  done: Promise<void>
  abort?: AbortController
}

/** The connection's state: which socket, which challenge it answered, which receipt domain it signs for. */
interface Session {
  ws: WebSocket
  challenge?: ChallengeMessage
  domain?: ReceiptDomain
  welcomed: boolean
  handshakeTimer?: NodeJS.Timeout
  heartbeatTimer?: NodeJS.Timeout
  heartbeatMs?: number
}

/**
 * The worker's side of the protocol: connects out to the gateway, answers the challenge, runs infer and train
 * requests, reconnects with exponential backoff and jitter when the connection drops, and drains on stop().
 * Events: 'welcome' (workerId), 'rejected' (reason), 'disconnected' (code), 'task' (requestId, outcome).
 */
export class GatewayClient extends EventEmitter {
  private readonly signer: ReceiptSigner
  private readonly random: () => number
  private readonly tasks = new Map<string, Task>()
  private session: Session | undefined
  private attempt = 0
  private reconnectTimer: NodeJS.Timeout | undefined
  private stopping = false
  private training = 0

  constructor(private readonly options: GatewayClientOptions) {
    super()
    this.signer = new ReceiptSigner({ account: options.account, ttlSeconds: options.receiptTtlSeconds ?? 86_400 })
    this.random = options.random ?? Math.random
  }

  get connected(): boolean {
    return this.session?.welcomed === true && this.session.ws.readyState === WebSocket.OPEN
  }

  start(): void {
    this.stopping = false
    this.connect()
  }

  private connect(): void {
    const { log } = this.options
    log.info('connecting to gateway', { url: this.options.gatewayUrl, attempt: this.attempt })
    const ws = new WebSocket(this.options.gatewayUrl, { maxPayload: MAX_MESSAGE_BYTES, handshakeTimeout: 10_000 })
    const session: Session = { ws, welcomed: false }
    this.session = session
    ws.on('open', () => {
      log.info('connected; waiting for the challenge')
      this.armHandshakeTimer(session)
    })
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.send(session, {
          type: 'error',
          requestId: null,
          code: 'BAD_MESSAGE',
          message: 'binary frames are not part of the protocol',
          retryable: false,
        })
        return
      }
      this.touchHeartbeat(session)
      void this.onFrame(session, data as Buffer)
    })
    ws.on('error', (error) => log.warn('gateway connection error', { error: error.message }))
    ws.on('close', (code, reason) => {
      clearTimeout(session.handshakeTimer)
      clearTimeout(session.heartbeatTimer)
      if (this.session === session) this.session = undefined
      // Closing because this worker stops is the stop asked for, not a fault to warn about.
      const level = this.stopping ? 'info' : 'warn'
      log[level]('disconnected from gateway', { code, reason: reason.toString() })
      this.emit('disconnected', code)
      if (!this.stopping) this.scheduleReconnect()
    })
  }

  private scheduleReconnect(): void {
    const { initialDelayMs, maxDelayMs } = this.options.reconnect ?? { initialDelayMs: 500, maxDelayMs: 30_000 }
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt)
    // Jitter in [base/2, base) spreads out a pool of workers that all lost the same gateway.
    const delay = Math.round(base / 2 + (this.random() * base) / 2)
    this.attempt++
    this.options.log.info('reconnecting', { inMs: delay })
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (!this.stopping) this.connect()
    }, delay)
  }

  private armHandshakeTimer(session: Session): void {
    clearTimeout(session.handshakeTimer)
    session.handshakeTimer = setTimeout(() => {
      this.options.log.warn('handshake timed out; reconnecting')
      session.ws.terminate()
    }, this.options.handshakeTimeoutMs ?? 10_000)
  }

  private touchHeartbeat(session: Session): void {
    if (!session.heartbeatMs) return
    clearTimeout(session.heartbeatTimer)
    // Never sooner than SILENCE_FLOOR_MS: a training step or loading tfjs can stall this process's event loop, and
    // the timer would then fire before the pings that arrived meanwhile are read.
    session.heartbeatTimer = setTimeout(
      () => {
        this.options.log.warn('no message from the gateway for 3 heartbeats; reconnecting')
        session.ws.terminate()
      },
      Math.max(SILENCE_FLOOR_MS, session.heartbeatMs * 3),
    )
  }

  private send(session: Session, message: WorkerMessage): void {
    if (session.ws.readyState !== WebSocket.OPEN) {
      const id = 'requestId' in message ? message.requestId : undefined
      this.options.log.warn('connection gone; dropping a message', { type: message.type, requestId: id })
      return
    }
    session.ws.send(encodeMessage(message))
  }

  private async onFrame(session: Session, data: Buffer): Promise<void> {
    let message: GatewayMessage
    try {
      message = parseGatewayMessage(data)
    } catch (error) {
      const e = error instanceof ProtocolError ? error : new ProtocolError(String(error))
      this.options.log.warn('malformed message from the gateway', { error: e.message })
      this.send(session, {
        type: 'error',
        requestId: e.requestId,
        code: 'BAD_MESSAGE',
        message: e.message,
        retryable: false,
      })
      return
    }
    try {
      await this.dispatch(session, message)
    } catch (error) {
      this.options.log.error('failed to handle a gateway message', { type: message.type, error: String(error) })
    }
  }

  private async dispatch(session: Session, message: GatewayMessage): Promise<void> {
    const { log } = this.options
    switch (message.type) {
      case 'challenge':
        await this.answerChallenge(session, message)
        return
      case 'welcome':
        if (!session.challenge) throw new ProtocolError('welcome before any challenge')
        clearTimeout(session.handshakeTimer)
        session.welcomed = true
        session.heartbeatMs = message.heartbeatMs
        this.touchHeartbeat(session)
        this.attempt = 0
        log.info('admitted by the gateway', { workerId: message.workerId })
        this.emit('welcome', message.workerId)
        return
      case 'rejected':
        log.error('the gateway rejected this worker', { reason: message.reason })
        this.emit('rejected', message.reason)
        session.ws.close(1000, 'rejected')
        return
      case 'ping':
        this.send(session, { type: 'pong', id: message.id, sentAt: message.sentAt, load: this.load() })
        return
      case 'cancel': {
        const task = this.tasks.get(message.requestId)
        task?.abort?.abort(
          new NonRetryableError(`request ${message.requestId} was cancelled by the gateway`, { code: 'CANCELLED' }),
        )
        return
      }
      case 'infer':
      case 'train':
        this.startTask(session, message)
        return
    }
  }

  private async answerChallenge(session: Session, challenge: ChallengeMessage): Promise<void> {
    const { account, engine, log } = this.options
    try {
      checkChallenge({ challenge, expect: this.options.expect })
    } catch (error) {
      log.error('refusing the gateway', { error: (error as Error).message })
      session.ws.close(1008, 'challenge refused')
      return
    }
    session.challenge = challenge
    session.domain = receiptDomain({ chainId: challenge.chainId, jobMarket: challenge.jobMarket })
    const hello: HelloMessage = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      provider: account.address,
      challengeNonce: challenge.nonce,
      signature: await signChallenge({ account, challenge }),
      device: engine.device,
      runtime: {
        name: engine.runtime.name,
        version: engine.runtime.version,
        executionProvider: engine.runtime.executionProvider,
        runtimeId: engine.runtime.runtimeId,
      },
      models: engine.listModels(),
      concurrency: engine.options.concurrency,
      maxBatchSize: engine.options.maxBatchSize,
      maxWaitMs: engine.options.maxWaitMs,
      pricePerUnit: (this.options.pricePerUnit ?? 0n).toString(),
      training: { kinds: [...MODEL_KINDS], runtimeId: TRAINING_RUNTIME_ID },
      software: WORKER_SOFTWARE,
    }
    this.send(session, hello)
    this.armHandshakeTimer(session)
  }

  private load() {
    return { ...this.options.engine.load(), training: this.training }
  }

  private startTask(session: Session, message: InferMessage | TrainMessage): void {
    const fail = (error: unknown) => {
      const { code, message: text, retryable } = describeError(error)
      this.send(session, { type: 'error', requestId: message.requestId, code, message: text, retryable })
      this.emit('task', message.requestId, code)
    }
    if (!session.welcomed || !session.domain) {
      fail(new ProtocolError(`${message.type} before the handshake completed`))
      return
    }
    if (this.stopping) {
      fail(new RetryableError('the worker is shutting down', { code: 'SHUTTING_DOWN' }))
      return
    }
    if (this.tasks.has(message.requestId)) {
      fail(new ProtocolError(`request ${message.requestId} is already in progress`))
      return
    }
    const domain = session.domain
    const abort = message.type === 'train' ? new AbortController() : undefined
    const run = async () => {
      try {
        if (message.type === 'infer') {
          const faulty = (this.options.faultRate ?? 0) > 0 && this.random() < (this.options.faultRate ?? 0)
          const result = await runInference({
            engine: this.options.engine,
            signer: this.signer,
            domain,
            message,
            pricePerUnit: this.options.pricePerUnit,
            faulty,
          })
          if (faulty)
            this.options.log.warn('TEST fault injection: sent a perturbed output', { requestId: message.requestId })
          this.send(session, result)
          this.emit('task', message.requestId, 'ok')
          return
        }
        if (this.training >= (this.options.maxConcurrentTraining ?? 1)) {
          throw new RetryableError(`this worker is already running ${this.training} training task(s)`, { code: 'BUSY' })
        }
        this.training++
        const deadline = setTimeout(
          () =>
            abort?.abort(
              new RetryableError(`training passed its ${message.deadlineMs} ms deadline`, {
                code: 'DEADLINE_EXCEEDED',
              }),
            ),
          message.deadlineMs,
        )
        try {
          const trained = await runTraining({
            engine: this.options.engine,
            signer: this.signer,
            domain,
            message,
            pricePerUnit: this.options.pricePerUnit,
            signal: abort?.signal,
            onProgress: (progress) => this.send(session, progress),
          })
          this.send(session, trained)
          this.send(session, { type: 'models', models: this.options.engine.listModels() })
          this.emit('task', message.requestId, 'ok')
        } finally {
          clearTimeout(deadline)
          this.training--
        }
      } catch (error) {
        fail(error)
      }
    }
    const done = run().finally(() => this.tasks.delete(message.requestId))
    this.tasks.set(message.requestId, { kind: message.type, done, abort })
  }

  /**
   * Stops taking tasks, lets in-flight ones finish within `graceMs` (training is stopped at once: it could run for
   * hours), answers what is left with a retryable SHUTTING_DOWN error, and closes the connection.
   */
  async stop({ graceMs = 10_000 }: { graceMs?: number } = {}): Promise<void> {
    this.stopping = true
    clearTimeout(this.reconnectTimer)
    for (const task of this.tasks.values()) {
      task.abort?.abort(new RetryableError('the worker is shutting down', { code: 'SHUTTING_DOWN' }))
    }
    const pending = [...this.tasks.values()].map((t) => t.done)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(pending),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs)
      }),
    ])
    clearTimeout(timer)
    const session = this.session
    if (session) {
      for (const requestId of this.tasks.keys()) {
        this.send(session, {
          type: 'error',
          requestId,
          code: 'SHUTTING_DOWN',
          message: `the worker shut down before request ${requestId} finished`,
          retryable: true,
        })
      }
      await new Promise<void>((resolve) => {
        if (session.ws.readyState === WebSocket.CLOSED) return resolve()
        session.ws.once('close', () => resolve())
        session.ws.close(1001, 'worker shutting down')
        setTimeout(() => {
          session.ws.terminate()
          resolve()
        }, 2000).unref()
      })
    }
    this.tasks.clear()
  }
}
