import { hashBytes } from '@computegraph/contracts/receipts'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import {
  type ChallengeMessage,
  challengeText,
  checkChallenge,
  createChallenge,
  encodeMessage,
  type HelloMessage,
  type InferMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  parseGatewayMessage,
  parseWorkerMessage,
  signChallenge,
  type TrainMessage,
  verifyChallengeResponse,
} from './protocol'
import { createPrng } from './training/prng'
import { normalizeTrainingTask } from './training/training-task'

const provider = privateKeyToAccount('0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6')
const intruder = privateKeyToAccount('0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a')
const gatewayAddress = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'
const jobMarket = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const NOW = Date.UTC(2026, 0, 1)

const challengeAt = (now = NOW) => createChallenge({ gatewayAddress, chainId: 31337, jobMarket, ttlSeconds: 30, now })

async function helloFor(challenge: ChallengeMessage, account = provider): Promise<HelloMessage> {
  return {
    type: 'hello',
    version: PROTOCOL_VERSION,
    provider: account.address,
    challengeNonce: challenge.nonce,
    signature: await signChallenge({ account, challenge }),
    device: { kind: 'cpu', name: 'test cpu', memoryBytes: 1024 },
    runtime: {
      name: 'onnxruntime-node',
      version: '1.30.0',
      executionProvider: 'cpu',
      runtimeId: `0x${'00'.repeat(32)}`,
    },
    models: [],
    concurrency: 1,
    maxBatchSize: 8,
    maxWaitMs: 2,
    pricePerUnit: '0',
    training: { kinds: ['linear'], runtimeId: `0x${'00'.repeat(32)}` },
    software: 'test',
  }
}

describe('the handshake', () => {
  it('admits a hello signed by the provider over this connection’s challenge, after a round trip on the wire', async () => {
    const challenge = challengeAt()
    const sent = parseGatewayMessage(encodeMessage(challenge))
    expect(sent).toEqual(challenge)
    const hello = parseWorkerMessage(encodeMessage(await helloFor(challenge))) as HelloMessage
    await expect(verifyChallengeResponse({ challenge, hello, now: NOW + 10_000 })).resolves.toEqual({
      valid: true,
      provider: provider.address,
    })
  })

  it('signs a text naming the protocol, provider, gateway, chain, JobMarket, nonce and expiry', () => {
    const challenge = challengeAt()
    expect(challengeText({ challenge, provider: provider.address })).toBe(
      [
        'computegraph worker handshake',
        'protocol: 1',
        `provider: ${provider.address}`,
        `gateway: ${gatewayAddress}`,
        'chain id: 31337',
        `job market: ${jobMarket}`,
        `nonce: ${challenge.nonce}`,
        `expires at: ${Math.floor(NOW / 1000) + 30}`,
      ].join('\n'),
    )
  })

  it('rejects a hello replayed from another connection', async () => {
    const earlier = challengeAt()
    const hello = await helloFor(earlier)
    const current = challengeAt()
    const check = await verifyChallengeResponse({ challenge: current, hello, now: NOW })
    expect(check).toEqual({ valid: false, reason: expect.stringContaining('a replayed or stale hello') })
  })

  it('rejects a hello that arrives after the challenge expired', async () => {
    const challenge = challengeAt()
    const hello = await helloFor(challenge)
    const check = await verifyChallengeResponse({ challenge, hello, now: NOW + 31_000 })
    expect(check).toEqual({ valid: false, reason: `the challenge expired at ${challenge.expiresAt} (unix seconds)` })
  })

  it('rejects a hello whose signature was made by another key than the provider it claims', async () => {
    const challenge = challengeAt()
    // The intruder signs the very text the provider would sign, naming the provider.
    const forged = {
      ...(await helloFor(challenge)),
      signature: await intruder.signMessage({ message: challengeText({ challenge, provider: provider.address }) }),
    }
    const check = await verifyChallengeResponse({ challenge, hello: forged, now: NOW })
    expect(check).toEqual({
      valid: false,
      reason: `the handshake was signed by ${intruder.address}, not by the provider ${provider.address}`,
    })
  })

  it('rejects a signature over a challenge with other terms (another chain)', async () => {
    const challenge = challengeAt()
    const hello = await helloFor({ ...challenge, chainId: 1 })
    const check = await verifyChallengeResponse({ challenge, hello, now: NOW })
    expect(check.valid).toBe(false)
  })

  it('rejects a garbled signature without throwing', async () => {
    const challenge = challengeAt()
    const hello = { ...(await helloFor(challenge)), signature: `0x${'ff'.repeat(65)}` as const }
    const check = await verifyChallengeResponse({ challenge, hello, now: NOW })
    expect(check).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/^malformed handshake signature|signed by/),
    })
  })

  it('lets a worker refuse a gateway on another chain or an expired challenge', () => {
    const challenge = challengeAt()
    expect(() => checkChallenge({ challenge, now: NOW, expect: { chainId: 1 } })).toThrow(
      "the gateway's chain id is 31337, but this worker is set to 1",
    )
    expect(() => checkChallenge({ challenge, now: NOW + 60_000 })).toThrow("the gateway's challenge expired")
    expect(() => checkChallenge({ challenge, now: NOW, expect: { chainId: 31337, jobMarket } })).not.toThrow()
  })
})

const infer: InferMessage = {
  type: 'infer',
  requestId: 'req-1',
  modelId: `0x${'ab'.repeat(32)}`,
  input: { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4.5) },
  parameters: {},
  requester: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  jobId: '0',
  price: '1000',
  deadlineMs: 5000,
}

describe('parseGatewayMessage', () => {
  it('round-trips infer and train messages, tensors included', () => {
    expect(parseGatewayMessage(encodeMessage(infer))).toEqual(infer)
    const train: TrainMessage = {
      type: 'train',
      requestId: 'train-1',
      task: normalizeTrainingTask({
        kind: 'linear',
        dataset: {
          kind: 'inline',
          features: { dtype: 'float32', shape: [2, 1], data: Float32Array.of(1, 2) },
          labels: { dtype: 'float32', shape: [2], data: Float32Array.of(3, 5) },
        },
      }),
      requester: infer.requester,
      jobId: '12',
      price: '0',
      deadlineMs: 60_000,
    }
    expect(parseGatewayMessage(encodeMessage(train))).toEqual(train)
  })

  it.each([
    ['not JSON', '{"type":', 'message is not JSON'],
    ['not an object', '[1,2]', 'message must be a JSON object, got an array of 2'],
    ['no type', '{}', 'message.type must be a string naming the message type, got nothing'],
    ['an unknown type', '{"type":"reboot"}', 'unknown message type "reboot" from the gateway'],
    [
      'a short model id',
      JSON.stringify({ ...JSON.parse(encodeMessage(infer)), modelId: '0x12' }),
      'infer.modelId must be a 0x-prefixed 32-byte hex string, got "0x12"',
    ],
    [
      'tensor bytes that do not fill the shape',
      JSON.stringify({
        ...JSON.parse(encodeMessage(infer)),
        input: { dtype: 'float32', shape: [3, 2], dataB64: 'AACAPw==' },
      }),
      'infer.input.dataB64 holds 4 bytes but float32 shape [3, 2] needs 24',
    ],
    [
      'a float64 tensor',
      JSON.stringify({ ...JSON.parse(encodeMessage(infer)), input: { dtype: 'float64', shape: [1], dataB64: '' } }),
      'infer.input.dtype must be one of "float32", got "float64"',
    ],
    [
      'a negative price',
      JSON.stringify({ ...JSON.parse(encodeMessage(infer)), price: '-1' }),
      'infer.price must be a decimal string of an unsigned 256-bit integer, got "-1"',
    ],
    [
      'a bad requester',
      JSON.stringify({ ...JSON.parse(encodeMessage(infer)), requester: '0xnope' }),
      'infer.requester must be a 20-byte hex address, got "0xnope"',
    ],
    [
      'a zero deadline',
      JSON.stringify({ ...JSON.parse(encodeMessage(infer)), deadlineMs: 0 }),
      'infer.deadlineMs must be an integer from 1 to 86400000, got 0',
    ],
    [
      'a training task with an unknown dataset',
      JSON.stringify({
        type: 'train',
        requestId: 't',
        task: { kind: 'mlp', dataset: { kind: 'generated', name: 'lottery' } },
        requester: infer.requester,
        jobId: '0',
        price: '0',
        deadlineMs: 1000,
      }),
      'train.task.dataset.name must be one of "market-direction", "market-volatility", got "lottery"',
    ],
    [
      'a training task over the epoch limit',
      JSON.stringify({
        type: 'train',
        requestId: 't',
        task: { kind: 'mlp', dataset: { kind: 'generated', name: 'market-volatility' }, epochs: 5000 },
        requester: infer.requester,
        jobId: '0',
        price: '0',
        deadlineMs: 1000,
      }),
      'train.task: invalid training task: epochs must be an integer from 1 to 1000, got 5000',
    ],
  ])('refuses %s with a ProtocolError naming the problem', (_, frame, message) => {
    let error: unknown
    try {
      parseGatewayMessage(frame)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ProtocolError)
    expect((error as Error).message).toContain(message)
  })

  it('keeps the requestId of a malformed request so the error can be matched', () => {
    const frame = JSON.stringify({ ...JSON.parse(encodeMessage(infer)), deadlineMs: 'soon' })
    expect(() => parseGatewayMessage(frame)).toThrow(
      expect.objectContaining({ requestId: 'req-1', code: 'BAD_MESSAGE' }),
    )
  })

  it('throws nothing but ProtocolError on random and mutated frames', () => {
    const prng = createPrng(11)
    const valid = encodeMessage(infer)
    const alphabet = '{}[]":,0123456789abcdefx-.etruflns \\'
    for (let i = 0; i < 2000; i++) {
      const frame =
        i % 2 === 0
          ? Array.from({ length: prng.int(40) }, () => alphabet[prng.int(alphabet.length)]).join('')
          : valid.slice(0, prng.int(valid.length)) +
            alphabet[prng.int(alphabet.length)] +
            valid.slice(prng.int(valid.length))
      for (const parse of [parseGatewayMessage, parseWorkerMessage]) {
        try {
          parse(frame)
        } catch (error) {
          expect(error, frame).toBeInstanceOf(ProtocolError)
        }
      }
    }
  })
})

describe('parseWorkerMessage', () => {
  it('checks that trained model bytes hash to the model id they claim', () => {
    const bytes = new TextEncoder().encode('model bytes')
    const entry = {
      id: hashBytes(bytes),
      name: 'm',
      kind: 'linear',
      description: '',
      sizeBytes: bytes.length,
      input: { name: 'features', shape: ['batch', 1], dtype: 'float32' },
      output: { name: 'prediction', shape: ['batch', 1], dtype: 'float32' },
      tolerance: { absolute: 0, relative: 0 },
    }
    const receipt = {
      requestHash: `0x${'01'.repeat(32)}`,
      outputHash: hashBytes(bytes),
      modelId: hashBytes(bytes),
      runtimeId: `0x${'02'.repeat(32)}`,
      requester: infer.requester,
      worker: provider.address,
      jobId: '0',
      units: '10',
      price: '0',
      issuedAt: '1',
      expiresAt: '2',
      nonce: '3',
    }
    const frame = (b: Uint8Array) =>
      JSON.stringify({
        type: 'trained',
        requestId: 'train-1',
        model: { entry, bytesB64: Buffer.from(b).toString('base64') },
        history: [{ epoch: 1, loss: 0.5 }],
        receipt,
        signature: `0x${'11'.repeat(65)}`,
        timings: { totalMs: 5 },
      })
    const parsed = parseWorkerMessage(frame(bytes))
    expect(parsed.type === 'trained' && Buffer.from(parsed.model.bytes).toString()).toBe('model bytes')
    expect(() => parseWorkerMessage(frame(new TextEncoder().encode('other bytes')))).toThrow(
      `not to the model id ${entry.id}`,
    )
    expect(() => parseWorkerMessage(frame(bytes).replace('"units":"10"', '"units":"ten"'))).toThrow(
      'trained.receipt.units must be a decimal string of an unsigned integer, got "ten"',
    )
  })
})
