import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  type ChallengeMessage,
  createChallenge,
  type HelloMessage,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  parseWorkerMessage,
  verifyChallengeResponse,
} from '@computegraph/gpu-worker/protocol'
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { WebSocket, WebSocketServer } from 'ws'
import type { Config } from '../config/config'
import { CONFIG } from '../config/config.module'
import { emptyBadFrameTally, tallyBadFrame } from './bad-frames'
import { ComputeRepository } from './compute.repository'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import { admission } from './worker-admission'
import { LiveWorker, WorkerPool } from './worker-pool'

// Close codes (4000-4999 are the application's): the worker logs the reason and reconnects with backoff.
const CLOSE_PROTOCOL = 1002
const CLOSE_INTERNAL = 1011
const CLOSE_REJECTED = 4003
const CLOSE_NO_HELLO = 4008
const CLOSE_SILENT = 4009
const CLOSE_SHUTDOWN = 1001
// A worker that misses this many heartbeats in a row is gone, whatever TCP says; but never sooner than
// SILENCE_FLOOR_MS, since a worker's event loop may stall that long while it loads tfjs or runs a training step.
const MISSED_HEARTBEATS = 3
const SILENCE_FLOOR_MS = 10_000

/**
 * The workers' side of the gateway: a WebSocket path on the HTTP server where workers connect out, answer a fresh
 * challenge with their provider key, and are admitted while the indexed state says they are staked. Pings them,
 * re-checks their stake on every heartbeat, and drops those that fall out.
 */
@Injectable()
export class WorkerGatewayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Workers')
  private wss?: WebSocketServer
  private heartbeat?: NodeJS.Timeout
  private nextId = 1
  private server?: Server
  /** Connections not admitted yet, by remote address. */
  private readonly pending = new Map<string, number>()
  private pendingTotal = 0
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    if (pathname !== this.config.compute.workersPath || !this.wss) return
    const limits = this.config.compute.workerSockets
    const address = req.socket.remoteAddress ?? 'unknown'
    const fromAddress = this.pending.get(address) ?? 0
    if (fromAddress >= limits.maxPendingPerAddress) {
      return refuseUpgrade(socket, 429, {
        code: 'RATE_LIMITED',
        message: `${fromAddress} worker connections from ${address} are not admitted yet (at most ${limits.maxPendingPerAddress}); retry shortly`,
      })
    }
    if (this.pendingTotal >= limits.maxPending) {
      return refuseUpgrade(socket, 503, {
        code: 'UNAVAILABLE',
        message: `${this.pendingTotal} worker connections are not admitted yet (at most ${limits.maxPending}); retry shortly`,
      })
    }
    this.pending.set(address, fromAddress + 1)
    this.pendingTotal++
    let held = true
    const release = () => {
      if (!held) return
      held = false
      this.pendingTotal--
      const left = (this.pending.get(address) ?? 1) - 1
      if (left > 0) this.pending.set(address, left)
      else this.pending.delete(address)
    }
    // Also when ws refuses the upgrade itself (bad headers) and never hands over a connection.
    socket.once('close', release)
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, release))
  }

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(COMPUTE_IDENTITY) private readonly identity: ComputeIdentity | null,
    @Inject(ComputeRepository) private readonly repository: ComputeRepository,
    @Inject(WorkerPool) private readonly pool: WorkerPool,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.identity) return
    // Until a worker is admitted its frames are bounded by the hello's size; admit() raises the bound for tasks.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.config.compute.workerSockets.helloMaxBytes })
    this.server = this.host.httpAdapter.getHttpServer() as Server
    this.server.on('upgrade', this.onUpgrade)
    this.heartbeat = setInterval(() => void this.beat(), this.config.compute.heartbeatMs)
  }

  /** Connections on the workers' path that are not admitted (yet). */
  get pendingConnections(): number {
    return this.pendingTotal
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat)
    this.server?.off('upgrade', this.onUpgrade)
    for (const w of this.pool.all()) w.close({ code: CLOSE_SHUTDOWN, reason: 'gateway shutting down' })
    for (const ws of this.wss?.clients ?? []) ws.terminate()
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()))
  }

  private accept(ws: WebSocket, release: () => void): void {
    const identity = this.identity as ComputeIdentity
    const limits = this.config.compute.workerSockets
    const challenge = createChallenge({
      gatewayAddress: identity.account.address,
      chainId: identity.deployment.chainId,
      jobMarket: identity.deployment.contracts.JobMarket.address,
    })
    let phase: 'hello' | 'admitting' | 'admitted' = 'hello'
    let worker: LiveWorker | undefined
    let tally = emptyBadFrameTally(Date.now())
    const handshakeTimer = setTimeout(() => {
      release()
      ws.close(CLOSE_NO_HELLO, `not admitted within ${limits.handshakeTimeoutMs} ms`)
    }, limits.handshakeTimeoutMs)
    const unusable = (admitted: LiveWorker, malformed: boolean, what: string) => {
      const verdict = tallyBadFrame({ tally, malformed, now: Date.now(), limits })
      tally = verdict.tally
      if (verdict.drop) {
        const reason = `more than ${limits.maxBadFrames} malformed frames within ${limits.badFrameWindowMs / 1000} s`
        this.logger.warn(`worker ${admitted.provider} (${admitted.id}) dropped: ${reason}; the last: ${what}`)
        this.drop(admitted, CLOSE_PROTOCOL, reason)
      } else if (verdict.log) {
        const more = verdict.suppressed ? ` (${verdict.suppressed} similar warnings suppressed before this one)` : ''
        this.logger.warn(`worker ${admitted.provider} (${admitted.id}): ${what}${more}`)
      }
    }
    ws.on('message', (data) => {
      if (worker) worker.lastHeardAt = Date.now()
      let message: ReturnType<typeof parseWorkerMessage>
      try {
        message = parseWorkerMessage(data as Buffer)
      } catch (error) {
        const what = (error as ProtocolError).message
        if (worker) return unusable(worker, true, what)
        this.logger.warn(`worker handshake: ${what}`)
        return void ws.close(CLOSE_REJECTED, 'malformed frame')
      }
      if (message.type === 'hello') {
        if (phase === 'hello') {
          phase = 'admitting'
          void this.admit({ ws, challenge, hello: message }).then(
            (admitted) => {
              if (!admitted) return
              worker = admitted
              phase = 'admitted'
              clearTimeout(handshakeTimer)
              release()
            },
            (error: Error) => {
              // The indexed state could not be read: the worker reconnects with backoff and is checked again.
              this.logger.warn(`worker handshake failed: ${error.message}`)
              ws.close(CLOSE_INTERNAL, 'admission failed; retry later')
            },
          )
          return
        }
        // One connection is one worker: a second hello would put a second entry for this socket in the pool.
        return this.protocolError({
          ws,
          worker,
          reason: 'a second hello on one connection; one connection is one worker',
        })
      }
      if (!worker) {
        if (phase === 'hello') return void ws.close(CLOSE_REJECTED, `expected hello, got ${message.type}`)
        return this.protocolError({ ws, reason: `${message.type} before the welcome` })
      }
      if (message.type === 'pong') {
        worker.load = message.load
        worker.pingRttMs = Date.now() - message.sentAt
      } else if (message.type === 'models') {
        worker.modelEntries = message.models
        worker.models = new Set(message.models.map((m) => m.id.toLowerCase() as `0x${string}`))
        this.pool.changed()
      } else if (!worker.deliver(message)) {
        unusable(worker, false, `${message.type} for nothing pending; ignored`)
      }
    })
    ws.on('close', () => {
      clearTimeout(handshakeTimer)
      release()
      if (worker) {
        this.drop(worker)
        this.logger.log(`worker ${worker.provider} (${worker.id}) left`)
      }
    })
    ws.on('error', () => {})
    ws.send(JSON.stringify(challenge))
  }

  /** Takes a worker out of the pool at once (its pending requests fail over) and closes its connection. */
  private drop(worker: LiveWorker, code?: number, reason?: string): void {
    worker.close({ code, reason })
    this.pool.remove(worker.id)
  }

  /** Refuses a frame the protocol does not allow here: tells the worker why and closes the connection. */
  private protocolError({ ws, worker, reason }: { ws: WebSocket; worker?: LiveWorker; reason: string }): void {
    this.logger.warn(
      `worker ${worker ? `${worker.provider} (${worker.id})` : '(handshake)'}: protocol error: ${reason}`,
    )
    if (ws.readyState === WebSocket.OPEN)
      ws.send(JSON.stringify({ type: 'rejected', reason: `protocol error: ${reason}` }))
    if (worker) this.drop(worker, CLOSE_PROTOCOL, 'protocol error')
    else ws.close(CLOSE_PROTOCOL, 'protocol error')
  }

  private async admit({
    ws,
    challenge,
    hello,
  }: {
    ws: WebSocket
    challenge: ChallengeMessage
    hello: HelloMessage
  }): Promise<LiveWorker | undefined> {
    const reject = (reason: string) => {
      this.logger.warn(`worker refused: ${reason}`)
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'rejected', reason }))
        ws.close(CLOSE_REJECTED, reason.slice(0, 120))
      }
      return undefined
    }
    const check = await verifyChallengeResponse({ challenge, hello })
    if (!check.valid) return reject(check.reason)
    const standing = (await this.repository.standings([check.provider])).get(check.provider.toLowerCase())
    const decision = admission({ standing })
    if (!decision.admitted) return reject(decision.reason)
    if (ws.readyState !== WebSocket.OPEN) return undefined
    const worker = new LiveWorker(`w${this.nextId++}`, ws, hello, decision.stake)
    setFrameLimit(ws, MAX_MESSAGE_BYTES)
    this.pool.add(worker)
    worker.send({ type: 'welcome', workerId: worker.id, heartbeatMs: this.config.compute.heartbeatMs })
    this.logger.log(
      `worker ${worker.provider} (${worker.id}) admitted: ${hello.device.kind} ${hello.device.name}, ` +
        `${hello.models.length} models, concurrency ${hello.concurrency}`,
    )
    return worker
  }

  /** Pings every worker, drops the silent ones and those whose stake fell out of the indexed state. */
  private async beat(): Promise<void> {
    const workers = this.pool.all()
    if (workers.length === 0) return
    const now = Date.now()
    for (const w of workers) {
      if (now - w.lastHeardAt > Math.max(SILENCE_FLOOR_MS, MISSED_HEARTBEATS * this.config.compute.heartbeatMs)) {
        this.drop(w, CLOSE_SILENT, `silent for ${MISSED_HEARTBEATS} heartbeats`)
        continue
      }
      w.send({ type: 'ping', id: String(now), sentAt: now })
    }
    let standings: Awaited<ReturnType<ComputeRepository['standings']>>
    try {
      standings = await this.repository.standings(workers.map((w) => w.provider))
    } catch (error) {
      this.logger.warn(`stake re-check skipped: ${(error as Error).message}`)
      return
    }
    for (const w of workers) {
      const decision = admission({ standing: standings.get(w.provider.toLowerCase()) })
      if (decision.admitted) {
        w.stake = decision.stake
        continue
      }
      this.logger.warn(`worker ${w.provider} dropped: ${decision.reason}`)
      w.send({ type: 'rejected', reason: decision.reason })
      this.drop(w, CLOSE_REJECTED, decision.reason.slice(0, 120))
    }
  }
}

/** Answers an upgrade the gateway will not take now with a plain HTTP error in the API's shape, and hangs up. */
function refuseUpgrade(socket: Duplex, status: 429 | 503, error: { code: string; message: string }): void {
  const body = JSON.stringify({ error: { ...error, reason: 'WORKER_HANDSHAKES_PENDING' } })
  socket.end(
    `HTTP/1.1 ${status} ${status === 429 ? 'Too Many Requests' : 'Service Unavailable'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\n` +
      `Connection: close\r\n\r\n${body}`,
  )
}

/**
 * Raises the largest frame a connection accepts. ws fixes it per connection at the upgrade and offers no way to
 * change it, but its receiver reads `_maxPayload` at every frame header (ws 8, lib/receiver.js); the admission test
 * with a large frame fails if a ws upgrade moves it, and so does this check.
 */
function setFrameLimit(ws: WebSocket, bytes: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver
  if (!receiver || typeof receiver._maxPayload !== 'number') {
    throw new Error('ws no longer exposes its receiver frame limit: cannot raise it after admission')
  }
  receiver._maxPayload = bytes
}
