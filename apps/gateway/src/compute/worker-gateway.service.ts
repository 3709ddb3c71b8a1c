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
import { ComputeRepository } from './compute.repository'
import { COMPUTE_IDENTITY, type ComputeIdentity } from './compute-identity'
import { admission } from './worker-admission'
import { LiveWorker, WorkerPool } from './worker-pool'

// Close codes (4000-4999 are the application's): the worker logs the reason and reconnects with backoff.
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
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    if (pathname !== this.config.compute.workersPath || !this.wss) return
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws))
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
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })
    this.server = this.host.httpAdapter.getHttpServer() as Server
    this.server.on('upgrade', this.onUpgrade)
    this.heartbeat = setInterval(() => void this.beat(), this.config.compute.heartbeatMs)
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat)
    this.server?.off('upgrade', this.onUpgrade)
    for (const w of this.pool.all()) w.close({ code: CLOSE_SHUTDOWN, reason: 'gateway shutting down' })
    for (const ws of this.wss?.clients ?? []) ws.terminate()
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()))
  }

  private accept(ws: WebSocket): void {
    const identity = this.identity as ComputeIdentity
    const challenge = createChallenge({
      gatewayAddress: identity.account.address,
      chainId: identity.deployment.chainId,
      jobMarket: identity.deployment.contracts.JobMarket.address,
    })
    const helloTimer = setTimeout(() => ws.close(CLOSE_NO_HELLO, 'no hello within 30 s'), 30_000)
    let worker: LiveWorker | undefined
    ws.on('message', (data) => {
      if (worker) worker.lastHeardAt = Date.now()
      let message: ReturnType<typeof parseWorkerMessage>
      try {
        message = parseWorkerMessage(data as Buffer)
      } catch (error) {
        this.logger.warn(`worker ${worker?.provider ?? '(handshake)'}: ${(error as ProtocolError).message}`)
        if (!worker) ws.close(CLOSE_REJECTED, 'malformed frame')
        return
      }
      if (!worker) {
        if (message.type !== 'hello') return void ws.close(CLOSE_REJECTED, `expected hello, got ${message.type}`)
        clearTimeout(helloTimer)
        void this.admit({ ws, challenge, hello: message }).then((admitted) => {
          worker = admitted
        })
        return
      }
      if (message.type === 'pong') {
        worker.load = message.load
        worker.pingRttMs = Date.now() - message.sentAt
      } else if (message.type === 'models') {
        worker.modelEntries = message.models
        worker.models = new Set(message.models.map((m) => m.id.toLowerCase() as `0x${string}`))
        this.pool.changed()
      } else if (!worker.deliver(message)) {
        this.logger.warn(`worker ${worker.provider}: ${message.type} for nothing pending; ignored`)
      }
    })
    ws.on('close', () => {
      clearTimeout(helloTimer)
      if (worker) {
        worker.close()
        this.pool.remove(worker.id)
        this.logger.log(`worker ${worker.provider} (${worker.id}) left`)
      }
    })
    ws.on('error', () => {})
    ws.send(JSON.stringify(challenge))
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
        w.close({ code: CLOSE_SILENT, reason: `silent for ${MISSED_HEARTBEATS} heartbeats` })
        this.pool.remove(w.id)
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
      w.close({ code: CLOSE_REJECTED, reason: decision.reason.slice(0, 120) })
      this.pool.remove(w.id)
    }
  }
}
