/**
 * The gateway <-> worker protocol, version 1: JSON text frames over one WebSocket that the worker opens to the
 * gateway. Every message is an object with a `type`. Both sides parse every frame with the functions here, which
 * refuse malformed messages with an error naming the field (ProtocolError) and never throw anything else.
 *
 * Handshake (the gateway speaks first):
 *   gateway -> challenge { version, nonce, gatewayAddress, chainId, jobMarket, expiresAt }
 *   worker  -> hello     { version, provider, challengeNonce, signature, device, runtime, models, ... }
 *              signature = EIP-191 personal_sign by the provider key of challengeText(challenge, provider)
 *   gateway -> welcome { workerId, heartbeatMs } | rejected { reason } (and closes)
 * Then, any number of times, in any order:
 *   gateway -> infer { requestId, modelId, input, parameters?, requester, jobId, price, deadlineMs }
 *   worker  -> result { requestId, output, receipt, signature, timings, batch } | error { requestId, code, ... }
 *   gateway -> train { requestId, task, requester, jobId, price, deadlineMs }
 *   worker  -> progress { requestId, epoch, epochs, loss }* then trained { ... } | error { ... }
 *   gateway -> cancel { requestId }            (stops a training task, which ends with error CANCELLED)
 *   worker  -> models { models }               (after a trained model starts being served)
 *   gateway -> ping { id, sentAt }  ->  worker -> pong { id, sentAt, load }
 *
 * Tensors travel as { dtype: 'float32', shape, dataB64 }: base64 of the raw little-endian float32 bytes, the same
 * bytes the canonical request/output encodings (canonical-bytes.ts) hash into the receipt. The message types below
 * are the parsed forms (tensors decoded, model bytes as Uint8Array); encodeMessage writes the wire form.
 */
import { type ComputeReceiptJson, hashBytes, receiptFromJson, receiptToJson } from '@computegraph/contracts/receipts'
import {
  type Account,
  type Address,
  getAddress,
  type Hex,
  isAddress,
  isAddressEqual,
  isHex,
  recoverMessageAddress,
  toHex,
} from 'viem'
import type { DeviceInfo } from './device'
import { NonRetryableError, type WorkerErrorCode } from './errors'
import { type ModelEntry, parseModelEntry } from './model-manifest'
import { bytesToFloat32, float32ToBytes, MAX_TENSOR_RANK, type Tensor } from './tensor'
import { GENERATED_DATASETS } from './training/market-data'
import { normalizeTrainingTask, type TrainingTask, type TrainingTaskInput } from './training/training-task'

export const PROTOCOL_VERSION = 1
/** Frames above this are refused; inline training data and trained model bytes are the large ones. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024
const MAX_ID_LENGTH = 128
const UINT256_MAX = 2n ** 256n - 1n

export interface WireTensor {
  dtype: 'float32'
  shape: number[]
  /** base64 of the raw little-endian element bytes. */
  dataB64: string
}

export interface RuntimeAdvert {
  name: string
  version: string
  executionProvider: 'cuda' | 'cpu'
  runtimeId: Hex
}

export interface Load {
  queuedRequests: number
  queuedRows: number
  inFlight: number
  concurrency: number
  training: number
}

// gateway -> worker

export interface ChallengeMessage {
  type: 'challenge'
  version: number
  /** 32 random bytes, fresh for every connection. */
  nonce: Hex
  gatewayAddress: Address
  /** The receipt domain: receipts are signed for this chain and JobMarket. */
  chainId: number
  jobMarket: Address
  /** Unix seconds after which a hello answering this challenge is refused. */
  expiresAt: number
}

export interface WelcomeMessage {
  type: 'welcome'
  workerId: string
  /** The gateway pings at least this often; a worker that hears nothing for 3 periods reconnects. */
  heartbeatMs: number
}

export interface RejectedMessage {
  type: 'rejected'
  reason: string
}

export interface InferMessage {
  type: 'infer'
  requestId: string
  modelId: Hex
  input: Tensor
  parameters: Record<string, string>
  requester: Address
  /** On-chain job id as a decimal string; '0' for off-chain requests. */
  jobId: string
  /** Agreed price in token base units, decimal string; goes into the receipt. */
  price: string
  /** Time budget in milliseconds from when the worker receives the message. */
  deadlineMs: number
}

export interface TrainMessage {
  type: 'train'
  requestId: string
  task: TrainingTask
  requester: Address
  jobId: string
  price: string
  deadlineMs: number
}

export interface CancelMessage {
  type: 'cancel'
  requestId: string
}

export interface PingMessage {
  type: 'ping'
  id: string
  sentAt: number
}

export type GatewayMessage =
  | ChallengeMessage
  | WelcomeMessage
  | RejectedMessage
  | InferMessage
  | TrainMessage
  | CancelMessage
  | PingMessage

// worker -> gateway

export interface HelloMessage {
  type: 'hello'
  version: number
  provider: Address
  challengeNonce: Hex
  signature: Hex
  device: DeviceInfo
  runtime: RuntimeAdvert
  models: ModelEntry[]
  concurrency: number
  maxBatchSize: number
  maxWaitMs: number
  /** The worker's asking price per unit (row, or epoch x row), decimal string. */
  pricePerUnit: string
  training: { kinds: string[]; runtimeId: Hex }
  software: string
}

export interface ResultMessage {
  type: 'result'
  requestId: string
  output: Tensor
  receipt: ComputeReceiptJson
  signature: Hex
  timings: { queuedMs: number; runMs: number; totalMs: number }
  batch: { rows: number; requests: number }
}

export interface ErrorMessage {
  type: 'error'
  /** null when the failing frame had no readable requestId. */
  requestId: string | null
  code: WorkerErrorCode
  message: string
  /** Whether the same request may succeed on another attempt or worker. */
  retryable: boolean
}

export interface ProgressMessage {
  type: 'progress'
  requestId: string
  epoch: number
  epochs: number
  loss: number
}

export interface TrainedMessage {
  type: 'trained'
  requestId: string
  /** On the wire `{ entry, bytesB64 }`; the parser checks keccak256(bytes) = entry.id. */
  model: { entry: ModelEntry; bytes: Uint8Array }
  history: { epoch: number; loss: number }[]
  receipt: ComputeReceiptJson
  signature: Hex
  timings: { totalMs: number }
}

export interface ModelsMessage {
  type: 'models'
  models: ModelEntry[]
}

export interface PongMessage {
  type: 'pong'
  id: string
  sentAt: number
  load: Load
}

export type WorkerMessage =
  | HelloMessage
  | ResultMessage
  | ErrorMessage
  | ProgressMessage
  | TrainedMessage
  | ModelsMessage
  | PongMessage

/** A frame that does not follow the protocol. `requestId` is set when the frame had a readable one. */
export class ProtocolError extends NonRetryableError {
  override name = 'ProtocolError'
  readonly requestId: string | null

  constructor(message: string, requestId: string | null = null) {
    super(message, { code: 'BAD_MESSAGE' })
    this.requestId = requestId
  }
}

/** Reads typed fields out of an untrusted object, naming the path of the first bad one. */
class Fields {
  constructor(
    readonly value: Record<string, unknown>,
    readonly path: string,
    readonly requestId: string | null = null,
  ) {}

  static of(value: unknown, path: string, requestId: string | null = null): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ProtocolError(`${path} must be a JSON object, got ${describe(value)}`, requestId)
    }
    return new Fields(value as Record<string, unknown>, path, requestId)
  }

  fail(key: string, expected: string): never {
    throw new ProtocolError(`${this.path}.${key} must be ${expected}, got ${describe(this.value[key])}`, this.requestId)
  }

  has(key: string): boolean {
    return this.value[key] !== undefined
  }

  string(key: string, maxLength = 4096, minLength = 0): string {
    const v = this.value[key]
    if (typeof v !== 'string' || v.length < minLength || v.length > maxLength) {
      this.fail(key, `a string of ${minLength} to ${maxLength} characters`)
    }
    return v
  }

  id(key: string): string {
    const v = this.value[key]
    if (typeof v !== 'string' || !/^[\w.:-]{1,128}$/.test(v)) {
      this.fail(key, `1-${MAX_ID_LENGTH} characters of letters, digits, '_', '.', ':' or '-'`)
    }
    return v
  }

  number(key: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number {
    const v = this.value[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(key, `a finite number from ${min} to ${max}`)
    }
    return v
  }

  int(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.value[key]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(key, `an integer from ${min} to ${max}`)
    }
    return v
  }

  boolean(key: string): boolean {
    const v = this.value[key]
    if (typeof v !== 'boolean') this.fail(key, 'true or false')
    return v
  }

  hex32(key: string): Hex {
    const v = this.value[key]
    if (typeof v !== 'string' || !isHex(v) || v.length !== 66) this.fail(key, 'a 0x-prefixed 32-byte hex string')
    return v.toLowerCase() as Hex
  }

  signature(key: string): Hex {
    const v = this.value[key]
    if (typeof v !== 'string' || !isHex(v) || v.length !== 132) this.fail(key, 'a 65-byte hex signature')
    return v as Hex
  }

  address(key: string): Address {
    const v = this.value[key]
    if (typeof v !== 'string' || !isAddress(v, { strict: false })) this.fail(key, 'a 20-byte hex address')
    return getAddress(v)
  }

  uint256(key: string): string {
    const v = this.value[key]
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v) || BigInt(v) > UINT256_MAX) {
      this.fail(key, 'a decimal string of an unsigned 256-bit integer')
    }
    return v
  }

  oneOf<const T extends string>(key: string, values: readonly T[]): T {
    const v = this.value[key]
    if (!values.includes(v as T)) this.fail(key, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`)
    return v as T
  }

  object(key: string): Fields {
    return Fields.of(this.value[key], `${this.path}.${key}`, this.requestId)
  }

  array(key: string, maxLength = 10_000): unknown[] {
    const v = this.value[key]
    if (!Array.isArray(v) || v.length > maxLength) this.fail(key, `an array of at most ${maxLength} items`)
    return v
  }
}

/** A value for an error message, bounded whatever the input: no nesting is walked, long strings are cut. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

export function tensorToWire(tensor: Tensor): WireTensor {
  return {
    dtype: tensor.dtype,
    shape: [...tensor.shape],
    dataB64: Buffer.from(float32ToBytes(tensor.data)).toString('base64'),
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Decodes a wire tensor, checking dtype, shape and that the bytes fill the shape exactly. */
export function tensorFromWire(value: unknown, path = 'tensor', requestId: string | null = null): Tensor {
  const f = Fields.of(value, path, requestId)
  f.oneOf('dtype', ['float32'])
  const shape = f.array('shape', MAX_TENSOR_RANK)
  if (shape.length === 0 || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    f.fail('shape', `1 to ${MAX_TENSOR_RANK} non-negative integers`)
  }
  const dims = shape as number[]
  const b64 = f.string('dataB64', MAX_MESSAGE_BYTES)
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) f.fail('dataB64', 'standard padded base64')
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'))
  const elements = dims.reduce((n, d) => n * d, 1)
  if (bytes.length !== elements * 4) {
    throw new ProtocolError(
      `${path}.dataB64 holds ${bytes.length} bytes but float32 shape [${dims.join(', ')}] needs ${elements * 4}`,
      requestId,
    )
  }
  return { dtype: 'float32', shape: dims, data: bytesToFloat32(bytes) }
}

function parseJsonFrame(raw: string | Buffer | ArrayBuffer | Buffer[]): { f: Fields; type: string } {
  const text =
    typeof raw === 'string'
      ? raw
      : Buffer.isBuffer(raw)
        ? raw.toString('utf8')
        : Array.isArray(raw)
          ? Buffer.concat(raw).toString('utf8')
          : Buffer.from(raw).toString('utf8')
  if (text.length > MAX_MESSAGE_BYTES)
    throw new ProtocolError(`message of ${text.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new ProtocolError(`message is not JSON: ${(cause as Error).message}`)
  }
  const probe = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).requestId : undefined
  const requestId = typeof probe === 'string' && probe.length <= MAX_ID_LENGTH ? probe : null
  const f: Fields = Fields.of(json, 'message', requestId)
  const type = f.value.type
  if (typeof type !== 'string') f.fail('type', 'a string naming the message type')
  return { f: new Fields(f.value, type, requestId), type }
}

function parseParameters(f: Fields): Record<string, string> {
  if (!f.has('parameters')) return {}
  const p = f.object('parameters')
  const out: Record<string, string> = {}
  for (const key of Object.keys(p.value)) {
    if (key.length === 0 || key.length > 256) p.fail(key, 'a key of 1 to 256 characters')
    out[key] = p.string(key, 65_536)
  }
  return out
}

function parseTrainingTask(f: Fields): TrainingTask {
  const t = f.object('task')
  const d = t.object('dataset')
  const datasetKind = d.oneOf('kind', ['inline', 'generated'])
  const dataset: TrainingTaskInput['dataset'] =
    datasetKind === 'inline'
      ? {
          kind: 'inline',
          features: tensorFromWire(d.value.features, `${d.path}.features`, f.requestId),
          labels: tensorFromWire(d.value.labels, `${d.path}.labels`, f.requestId),
        }
      : {
          kind: 'generated',
          name: d.oneOf('name', GENERATED_DATASETS),
          ...(d.has('rows') ? { rows: d.int('rows') } : {}),
          ...(d.has('seed') ? { seed: d.int('seed') } : {}),
        }
  const input: TrainingTaskInput = {
    kind: t.oneOf('kind', ['linear', 'logistic', 'mlp']),
    dataset,
    ...(t.has('name') ? { name: t.string('name', 64, 1) } : {}),
    ...(t.has('epochs') ? { epochs: t.int('epochs') } : {}),
    ...(t.has('learningRate') ? { learningRate: t.number('learningRate') } : {}),
    ...(t.has('batchSize') ? { batchSize: t.int('batchSize') } : {}),
    ...(t.has('seed') ? { seed: t.int('seed') } : {}),
    ...(t.has('optimizer') ? { optimizer: t.oneOf('optimizer', ['adam', 'sgd']) } : {}),
    ...(t.has('activation') ? { activation: t.oneOf('activation', ['relu', 'tanh']) } : {}),
    ...(t.has('hiddenUnits') ? { hiddenUnits: t.array('hiddenUnits', 16) as number[] } : {}),
  }
  try {
    return normalizeTrainingTask(input)
  } catch (error) {
    throw new ProtocolError(`train.task: ${(error as Error).message}`, f.requestId)
  }
}

/** Parses a frame the gateway sent. Throws ProtocolError, naming the field, for anything malformed. */
export function parseGatewayMessage(raw: string | Buffer | ArrayBuffer | Buffer[]): GatewayMessage {
  const { f, type } = parseJsonFrame(raw)
  switch (type) {
    case 'challenge':
      return {
        type,
        version: f.int('version', 1, 1_000_000),
        nonce: f.hex32('nonce'),
        gatewayAddress: f.address('gatewayAddress'),
        chainId: f.int('chainId', 1),
        jobMarket: f.address('jobMarket'),
        expiresAt: f.int('expiresAt', 0),
      }
    case 'welcome':
      return { type, workerId: f.string('workerId', 256, 1), heartbeatMs: f.int('heartbeatMs', 100, 3_600_000) }
    case 'rejected':
      return { type, reason: f.string('reason', 4096) }
    case 'infer':
      return {
        type,
        requestId: f.id('requestId'),
        modelId: f.hex32('modelId'),
        input: tensorFromWire(f.value.input, 'infer.input', f.requestId),
        parameters: parseParameters(f),
        requester: f.address('requester'),
        jobId: f.uint256('jobId'),
        price: f.uint256('price'),
        deadlineMs: f.int('deadlineMs', 1, 86_400_000),
      }
    case 'train':
      return {
        type,
        requestId: f.id('requestId'),
        task: parseTrainingTask(f),
        requester: f.address('requester'),
        jobId: f.uint256('jobId'),
        price: f.uint256('price'),
        deadlineMs: f.int('deadlineMs', 1, 7 * 86_400_000),
      }
    case 'cancel':
      return { type, requestId: f.id('requestId') }
    case 'ping':
      return { type, id: f.string('id', MAX_ID_LENGTH), sentAt: f.number('sentAt') }
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(type)} from the gateway`, f.requestId)
  }
}

function parseReceipt(f: Fields): ComputeReceiptJson {
  try {
    return receiptToJson(receiptFromJson(f.value.receipt))
  } catch (error) {
    throw new ProtocolError(`${f.path}.${(error as Error).message}`, f.requestId)
  }
}

function parseModels(f: Fields, key: string): ModelEntry[] {
  return f.array(key, 10_000).map((m, i) => {
    try {
      return parseModelEntry(m, `${f.path}.${key}[${i}]`)
    } catch (error) {
      throw new ProtocolError((error as Error).message, f.requestId)
    }
  })
}

const ERROR_CODES: readonly WorkerErrorCode[] = [
  'BAD_INPUT',
  'UNKNOWN_MODEL',
  'MODEL_INTEGRITY',
  'BAD_MESSAGE',
  'BUSY',
  'PRICE_TOO_LOW',
  'DEADLINE_EXCEEDED',
  'CANCELLED',
  'SHUTTING_DOWN',
  'INTERNAL',
]

/** Parses a frame a worker sent (for the gateway). Throws ProtocolError, naming the field, for anything malformed. */
export function parseWorkerMessage(raw: string | Buffer | ArrayBuffer | Buffer[]): WorkerMessage {
  const { f, type } = parseJsonFrame(raw)
  switch (type) {
    case 'hello': {
      const device = f.object('device')
      const runtime = f.object('runtime')
      const training: Fields = f.object('training')
      return {
        type,
        version: f.int('version', 1, 1_000_000),
        provider: f.address('provider'),
        challengeNonce: f.hex32('challengeNonce'),
        signature: f.signature('signature'),
        device: {
          kind: device.oneOf('kind', ['cuda', 'cpu']),
          name: device.string('name', 256),
          memoryBytes: device.int('memoryBytes'),
        },
        runtime: {
          name: runtime.string('name', 128, 1),
          version: runtime.string('version', 64, 1),
          executionProvider: runtime.oneOf('executionProvider', ['cuda', 'cpu']),
          runtimeId: runtime.hex32('runtimeId'),
        },
        models: parseModels(f, 'models'),
        concurrency: f.int('concurrency', 1, 4096),
        maxBatchSize: f.int('maxBatchSize', 1, 1_000_000),
        maxWaitMs: f.int('maxWaitMs', 0, 60_000),
        pricePerUnit: f.uint256('pricePerUnit'),
        training: {
          kinds: training.array('kinds', 16).map((k, i): string => {
            if (typeof k !== 'string') training.fail(`kinds[${i}]`, 'a string')
            return k
          }),
          runtimeId: training.hex32('runtimeId'),
        },
        software: f.string('software', 256),
      }
    }
    case 'result': {
      const timings = f.object('timings')
      const batch = f.object('batch')
      return {
        type,
        requestId: f.id('requestId'),
        output: tensorFromWire(f.value.output, 'result.output', f.requestId),
        receipt: parseReceipt(f),
        signature: f.signature('signature'),
        timings: {
          queuedMs: timings.number('queuedMs', 0),
          runMs: timings.number('runMs', 0),
          totalMs: timings.number('totalMs', 0),
        },
        batch: { rows: batch.int('rows', 1), requests: batch.int('requests', 1) },
      }
    }
    case 'error':
      return {
        type,
        requestId: f.value.requestId === null ? null : f.id('requestId'),
        code: f.oneOf('code', ERROR_CODES),
        message: f.string('message', 16_384),
        retryable: f.boolean('retryable'),
      }
    case 'progress':
      return {
        type,
        requestId: f.id('requestId'),
        epoch: f.int('epoch', 1),
        epochs: f.int('epochs', 1),
        loss: f.number('loss'),
      }
    case 'trained': {
      const model = f.object('model')
      let entry: ModelEntry
      try {
        entry = parseModelEntry(model.value.entry, 'trained.model.entry')
      } catch (error) {
        throw new ProtocolError((error as Error).message, f.requestId)
      }
      const b64 = model.string('bytesB64', MAX_MESSAGE_BYTES, 1)
      if (b64.length % 4 !== 0 || !BASE64.test(b64)) model.fail('bytesB64', 'standard padded base64')
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'))
      if (hashBytes(bytes) !== entry.id) {
        throw new ProtocolError(
          `trained.model.bytesB64 hashes to ${hashBytes(bytes)}, not to the model id ${entry.id}`,
          f.requestId,
        )
      }
      return {
        type,
        requestId: f.id('requestId'),
        model: { entry, bytes },
        history: f.array('history', 100_000).map((h, i) => {
          const e = Fields.of(h, `trained.history[${i}]`, f.requestId)
          return { epoch: e.int('epoch', 1), loss: e.number('loss') }
        }),
        receipt: parseReceipt(f),
        signature: f.signature('signature'),
        timings: { totalMs: f.object('timings').number('totalMs', 0) },
      }
    }
    case 'models':
      return { type, models: parseModels(f, 'models') }
    case 'pong': {
      const load = f.object('load')
      return {
        type,
        id: f.string('id', MAX_ID_LENGTH),
        sentAt: f.number('sentAt'),
        load: {
          queuedRequests: load.int('queuedRequests'),
          queuedRows: load.int('queuedRows'),
          inFlight: load.int('inFlight'),
          concurrency: load.int('concurrency', 1),
          training: load.int('training'),
        },
      }
    }
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(type)} from a worker`, f.requestId)
  }
}

/** A wire form of a training task (inline tensors as WireTensor), for the gateway to send. */
export function trainingTaskToWire(task: TrainingTask): Record<string, unknown> {
  const { dataset, ...rest } = task
  return {
    ...rest,
    dataset:
      dataset.kind === 'inline'
        ? { kind: 'inline', features: tensorToWire(dataset.features), labels: tensorToWire(dataset.labels) }
        : dataset,
  }
}

/** Serialises a message to its wire form; the counterpart of the parse functions. */
export function encodeMessage(message: GatewayMessage | WorkerMessage): string {
  switch (message.type) {
    case 'infer':
      return JSON.stringify({ ...message, input: tensorToWire(message.input) })
    case 'result':
      return JSON.stringify({ ...message, output: tensorToWire(message.output) })
    case 'train':
      return JSON.stringify({ ...message, task: trainingTaskToWire(message.task) })
    case 'trained':
      return JSON.stringify({
        ...message,
        model: { entry: message.model.entry, bytesB64: Buffer.from(message.model.bytes).toString('base64') },
      })
    default:
      return JSON.stringify(message)
  }
}

// The handshake

/** A fresh challenge for one connection. The gateway keeps it and checks the hello against it. */
export function createChallenge({
  gatewayAddress,
  chainId,
  jobMarket,
  ttlSeconds = 30,
  now = Date.now(),
}: {
  gatewayAddress: Address
  chainId: number
  jobMarket: Address
  ttlSeconds?: number
  now?: number
}): ChallengeMessage {
  return {
    type: 'challenge',
    version: PROTOCOL_VERSION,
    nonce: toHex(crypto.getRandomValues(new Uint8Array(32))),
    gatewayAddress: getAddress(gatewayAddress),
    chainId,
    jobMarket: getAddress(jobMarket),
    expiresAt: Math.floor(now / 1000) + ttlSeconds,
  }
}

/**
 * The exact text a worker signs (EIP-191 personal_sign) to answer a challenge. It names everything the signature
 * commits to, so it cannot be reused for another gateway, chain, connection or time.
 */
export function challengeText({ challenge, provider }: { challenge: ChallengeMessage; provider: Address }): string {
  return [
    'computegraph worker handshake',
    `protocol: ${challenge.version}`,
    `provider: ${getAddress(provider)}`,
    `gateway: ${getAddress(challenge.gatewayAddress)}`,
    `chain id: ${challenge.chainId}`,
    `job market: ${getAddress(challenge.jobMarket)}`,
    `nonce: ${challenge.nonce.toLowerCase()}`,
    `expires at: ${challenge.expiresAt}`,
  ].join('\n')
}

export async function signChallenge({ account, challenge }: { account: Account; challenge: ChallengeMessage }) {
  if (!account.signMessage) throw new Error(`account ${account.address} cannot sign messages locally`)
  return account.signMessage({ message: challengeText({ challenge, provider: account.address }) })
}

export type ChallengeCheck = { valid: true; provider: Address } | { valid: false; reason: string }

/**
 * For the gateway: checks that `hello` answers `challenge` (the one this connection was sent), before it expired,
 * with a signature by the provider it claims. A hello replayed from another connection carries another nonce.
 * Whether the provider is staked is the gateway's next check, against the indexed state.
 */
export async function verifyChallengeResponse({
  challenge,
  hello,
  now = Date.now(),
}: {
  challenge: ChallengeMessage
  hello: HelloMessage
  now?: number
}): Promise<ChallengeCheck> {
  if (hello.version !== challenge.version) {
    return {
      valid: false,
      reason: `protocol version ${hello.version} is not supported; this gateway speaks ${challenge.version}`,
    }
  }
  if (hello.challengeNonce.toLowerCase() !== challenge.nonce.toLowerCase()) {
    return {
      valid: false,
      reason: `hello answers challenge ${hello.challengeNonce}, not the one sent on this connection (${challenge.nonce}): a replayed or stale hello`,
    }
  }
  if (Math.floor(now / 1000) > challenge.expiresAt) {
    return { valid: false, reason: `the challenge expired at ${challenge.expiresAt} (unix seconds)` }
  }
  let signer: Address
  try {
    signer = await recoverMessageAddress({
      message: challengeText({ challenge, provider: hello.provider }),
      signature: hello.signature,
    })
  } catch (cause) {
    return { valid: false, reason: `malformed handshake signature: ${(cause as Error).message.split('\n')[0]}` }
  }
  if (!isAddressEqual(signer, hello.provider)) {
    return { valid: false, reason: `the handshake was signed by ${signer}, not by the provider ${hello.provider}` }
  }
  return { valid: true, provider: getAddress(hello.provider) }
}

/** For the worker: refuses a challenge that has expired or names another chain or JobMarket than configured. */
export function checkChallenge({
  challenge,
  now = Date.now(),
  expect = {},
}: {
  challenge: ChallengeMessage
  now?: number
  expect?: { chainId?: number; jobMarket?: Address; gatewayAddress?: Address }
}): void {
  if (challenge.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(`the gateway speaks protocol ${challenge.version}; this worker speaks ${PROTOCOL_VERSION}`)
  }
  if (Math.floor(now / 1000) > challenge.expiresAt) {
    throw new ProtocolError(`the gateway's challenge expired at ${challenge.expiresAt}; check both clocks`)
  }
  if (expect.chainId !== undefined && challenge.chainId !== expect.chainId) {
    throw new ProtocolError(
      `the gateway's chain id is ${challenge.chainId}, but this worker is set to ${expect.chainId}`,
    )
  }
  if (expect.jobMarket && !isAddressEqual(challenge.jobMarket, expect.jobMarket)) {
    throw new ProtocolError(
      `the gateway's JobMarket is ${challenge.jobMarket}, but this worker is set to ${expect.jobMarket}`,
    )
  }
  if (expect.gatewayAddress && !isAddressEqual(challenge.gatewayAddress, expect.gatewayAddress)) {
    throw new ProtocolError(`the gateway's address is ${challenge.gatewayAddress}, not ${expect.gatewayAddress}`)
  }
}
