import type { AddressInfo } from 'node:net'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { WebSocket, WebSocketServer } from 'ws'
import {
  type ChallengeCheck,
  type ChallengeMessage,
  createChallenge,
  encodeMessage,
  type GatewayMessage,
  type HelloMessage,
  MAX_MESSAGE_BYTES,
  parseWorkerMessage,
  verifyChallengeResponse,
  type WorkerMessage,
} from '../protocol'

/** One worker connection as the test gateway sees it. */
export interface TestConnection {
  ws: WebSocket
  challenge: ChallengeMessage
  hello: Promise<HelloMessage>
  check: Promise<ChallengeCheck>
  /** Every message parsed so far, in order. */
  received: WorkerMessage[]
  /** Frames that did not parse, with the parser's error. */
  malformed: string[]
  send(message: GatewayMessage): void
  /** Resolves with the first message (already received or future) that matches. */
  waitFor<T extends WorkerMessage>(match: (m: WorkerMessage) => m is T, timeoutMs?: number): Promise<T>
  closed: Promise<number>
}

const GATEWAY_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

/**
 * A minimal gateway for tests: issues a challenge per connection, checks the hello with verifyChallengeResponse,
 * and welcomes or rejects. The real gateway (apps/gateway/src/compute) also checks stake in the indexed state.
 */
export async function startTestGateway({
  chainId = 31337,
  jobMarket = '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  admit = () => true,
  heartbeatMs = 60_000,
}: {
  chainId?: number
  jobMarket?: Address
  admit?: (hello: HelloMessage) => boolean
  heartbeatMs?: number
} = {}) {
  const gateway = privateKeyToAccount(GATEWAY_KEY)
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_MESSAGE_BYTES })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const connections: TestConnection[] = []
  const waiters: ((c: TestConnection) => void)[] = []

  server.on('connection', (ws) => {
    const index = connections.length
    const challenge = createChallenge({ gatewayAddress: gateway.address, chainId, jobMarket })
    const received: WorkerMessage[] = []
    const malformed: string[] = []
    const listeners = new Set<() => void>()
    let resolveHello: (h: HelloMessage) => void = () => {}
    const hello = new Promise<HelloMessage>((resolve) => {
      resolveHello = resolve
    })
    const connection: TestConnection = {
      ws,
      challenge,
      hello,
      check: hello.then((h) => verifyChallengeResponse({ challenge, hello: h })),
      received,
      malformed,
      send: (message) => ws.send(encodeMessage(message)),
      waitFor: (match, timeoutMs = 20_000) =>
        new Promise((resolve, reject) => {
          const found = received.find(match)
          if (found) return resolve(found as never)
          const timer = setTimeout(() => {
            listeners.delete(listener)
            reject(
              new Error(
                `test gateway: no matching message in ${timeoutMs} ms; got ${received.map((m) => m.type).join(', ')}`,
              ),
            )
          }, timeoutMs)
          const listener = () => {
            const hit = received.find(match)
            if (hit) {
              clearTimeout(timer)
              listeners.delete(listener)
              resolve(hit as never)
            }
          }
          listeners.add(listener)
        }),
      closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
    }
    ws.on('message', (data) => {
      try {
        const message = parseWorkerMessage(data as Buffer)
        received.push(message)
        if (message.type === 'hello') resolveHello(message)
      } catch (error) {
        malformed.push((error as Error).message)
      }
      for (const l of [...listeners]) l()
    })
    void connection.check.then((check) => {
      if (ws.readyState !== WebSocket.OPEN) return
      if (check.valid && admit(received.find((m): m is HelloMessage => m.type === 'hello') as HelloMessage)) {
        connection.send({ type: 'welcome', workerId: `worker-${index}`, heartbeatMs })
      } else {
        connection.send({ type: 'rejected', reason: check.valid ? 'not admitted' : check.reason })
        ws.close(1008, 'rejected')
      }
    })
    connection.send(challenge)
    connections.push(connection)
    for (const w of waiters.splice(0)) w(connection)
  })

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    gatewayAddress: gateway.address,
    chainId,
    jobMarket,
    connections,
    /** The n-th connection (0-based), waiting for it if needed. */
    connection(n: number, timeoutMs = 20_000): Promise<TestConnection> {
      if (connections[n]) return Promise.resolve(connections[n])
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`test gateway: connection ${n} did not arrive`)), timeoutMs)
        const check = () => {
          if (connections[n]) {
            clearTimeout(timer)
            resolve(connections[n])
          } else waiters.push(check)
        }
        waiters.push(check)
      })
    },
    async close(): Promise<void> {
      for (const c of connections) c.ws.terminate()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type TestGateway = Awaited<ReturnType<typeof startTestGateway>>
