import { hashBytes } from '@computegraph/contracts/receipts'
import { type Hex, hexToBytes, isHex, toHex } from 'viem'
import { NonRetryableError } from './errors'
import { bytesToFloat32, float32ToBytes, MAX_TENSOR_RANK, type Tensor } from './tensor'
import type { TrainingTask } from './training/training-task'

/*
 * The exact bytes that receipts hash. requestHash = keccak256(request bytes) and outputHash = keccak256(output
 * bytes); the gateway and any verifier rebuild these bytes from the request and response and hash them again.
 * All integers are little-endian; encoders are canonical (one encoding per value) and decoders strict (anything
 * else, trailing bytes included, is refused), so equal hashes mean equal requests.
 *
 * tensor      := dtype:u8 (ONNX code: 1 = float32) rank:u8 dims:u32[rank] data:(elements x 4 bytes, float32 LE)
 * inference request := "CGIR" version:u8=1 modelId:32 bytes tensor paramCount:u16
 *                      { keyLength:u16 key:utf8 valueLength:u32 value:utf8 } x paramCount, keys in byte order
 * inference output  := "CGIO" version:u8=1 tensor
 * training request  := "CGTR" version:u8=1 specLength:u32 spec:utf8 canonical JSON (keys sorted, no spaces)
 *                      inline:u8 (0 | 1) [features tensor, labels tensor when inline = 1]
 * training output   := the exported ONNX model bytes, so outputHash is the new model's id
 */

export const CANONICAL_FORMAT_VERSION = 1
const MAGIC = {
  inferenceRequest: 'CGIR',
  inferenceOutput: 'CGIO',
  trainingRequest: 'CGTR',
} as const
const DTYPE_CODES = { float32: 1 } as const

export interface InferenceRequestBody {
  modelId: Hex
  input: Tensor
  /** Model parameters; none of the shipped models take any. Keys are unique. */
  parameters?: Record<string, string>
}

class Writer {
  private chunks: Uint8Array[] = []
  private length = 0

  bytes(b: Uint8Array): this {
    this.chunks.push(b)
    this.length += b.length
    return this
  }

  u8(v: number): this {
    return this.bytes(Uint8Array.of(v))
  }

  u16(v: number): this {
    if (v > 0xffff) throw new NonRetryableError(`value ${v} does not fit the canonical encoding's u16`)
    const b = new Uint8Array(2)
    new DataView(b.buffer).setUint16(0, v, true)
    return this.bytes(b)
  }

  u32(v: number): this {
    if (v > 0xffffffff) throw new NonRetryableError(`value ${v} does not fit the canonical encoding's u32`)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, v, true)
    return this.bytes(b)
  }

  ascii(s: string): this {
    return this.bytes(new TextEncoder().encode(s))
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const c of this.chunks) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }
}

class Reader {
  private offset = 0
  private readonly view: DataView

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  private need(n: number): void {
    if (this.offset + n > this.data.length) {
      throw new NonRetryableError(`${this.what} is truncated: needs ${n} more bytes at offset ${this.offset}`)
    }
  }

  bytes(n: number): Uint8Array {
    this.need(n)
    const out = this.data.slice(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  u8(): number {
    this.need(1)
    return this.view.getUint8(this.offset++)
  }

  u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.offset, true)
    this.offset += 2
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.offset, true)
    this.offset += 4
    return v
  }

  utf8(n: number): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(n))
  }

  header(magic: string): void {
    const got = new TextDecoder().decode(this.bytes(4))
    if (got !== magic)
      throw new NonRetryableError(`${this.what} must start with "${magic}", got ${JSON.stringify(got)}`)
    const version = this.u8()
    if (version !== CANONICAL_FORMAT_VERSION) {
      throw new NonRetryableError(
        `${this.what} has format version ${version}; this code reads ${CANONICAL_FORMAT_VERSION}`,
      )
    }
  }

  end(): void {
    if (this.offset !== this.data.length) {
      throw new NonRetryableError(`${this.what} has ${this.data.length - this.offset} trailing bytes`)
    }
  }
}

function writeTensor(w: Writer, tensor: Tensor): void {
  const code = DTYPE_CODES[tensor.dtype]
  if (code === undefined) throw new NonRetryableError(`cannot encode tensor dtype ${tensor.dtype}`)
  if (tensor.shape.length > MAX_TENSOR_RANK)
    throw new NonRetryableError(`tensor rank ${tensor.shape.length} is above ${MAX_TENSOR_RANK}`)
  const elements = tensor.shape.reduce((n, d) => n * d, 1)
  if (elements !== tensor.data.length) {
    throw new NonRetryableError(`tensor data holds ${tensor.data.length} elements but its shape needs ${elements}`)
  }
  w.u8(code).u8(tensor.shape.length)
  for (const d of tensor.shape) w.u32(d)
  w.bytes(float32ToBytes(tensor.data))
}

function readTensor(r: Reader): Tensor {
  const code = r.u8()
  if (code !== DTYPE_CODES.float32) throw new NonRetryableError(`unsupported tensor dtype code ${code} (1 = float32)`)
  const rank = r.u8()
  if (rank < 1 || rank > MAX_TENSOR_RANK)
    throw new NonRetryableError(`tensor rank must be 1 to ${MAX_TENSOR_RANK}, got ${rank}`)
  const shape: number[] = []
  for (let i = 0; i < rank; i++) shape.push(r.u32())
  const elements = shape.reduce((n, d) => n * d, 1)
  return { dtype: 'float32', shape, data: bytesToFloat32(r.bytes(elements * 4)) }
}

function compareUtf8(a: string, b: string): number {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number)
  }
  return x.length - y.length
}

function modelIdBytes(modelId: string): Uint8Array {
  if (!isHex(modelId) || modelId.length !== 66) {
    throw new NonRetryableError(`model id must be a 0x-prefixed 32-byte hex string, got ${JSON.stringify(modelId)}`)
  }
  return hexToBytes(modelId)
}

export function encodeInferenceRequest({ modelId, input, parameters = {} }: InferenceRequestBody): Uint8Array {
  const w = new Writer().ascii(MAGIC.inferenceRequest).u8(CANONICAL_FORMAT_VERSION).bytes(modelIdBytes(modelId))
  writeTensor(w, input)
  const keys = Object.keys(parameters).sort(compareUtf8)
  w.u16(keys.length)
  for (const key of keys) {
    const k = new TextEncoder().encode(key)
    const v = new TextEncoder().encode(parameters[key])
    w.u16(k.length).bytes(k).u32(v.length).bytes(v)
  }
  return w.finish()
}

export function decodeInferenceRequest(bytes: Uint8Array): Required<InferenceRequestBody> {
  const r = new Reader(bytes, 'inference request bytes')
  r.header(MAGIC.inferenceRequest)
  const modelId = toHex(r.bytes(32))
  const input = readTensor(r)
  const parameters: Record<string, string> = {}
  const count = r.u16()
  let previous: string | undefined
  for (let i = 0; i < count; i++) {
    const key = r.utf8(r.u16())
    if (previous !== undefined && compareUtf8(previous, key) >= 0) {
      throw new NonRetryableError(
        `inference request parameters must be sorted and unique; "${key}" follows "${previous}"`,
      )
    }
    parameters[key] = r.utf8(r.u32())
    previous = key
  }
  r.end()
  return { modelId, input, parameters }
}

export function encodeInferenceOutput({ output }: { output: Tensor }): Uint8Array {
  const w = new Writer().ascii(MAGIC.inferenceOutput).u8(CANONICAL_FORMAT_VERSION)
  writeTensor(w, output)
  return w.finish()
}

export function decodeInferenceOutput(bytes: Uint8Array): { output: Tensor } {
  const r = new Reader(bytes, 'inference output bytes')
  r.header(MAGIC.inferenceOutput)
  const output = readTensor(r)
  r.end()
  return { output }
}

export function hashInferenceRequest(body: InferenceRequestBody): Hex {
  return hashBytes(encodeInferenceRequest(body))
}

export function hashInferenceOutput(body: { output: Tensor }): Hex {
  return hashBytes(encodeInferenceOutput(body))
}

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareUtf8(a, b))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new NonRetryableError(`canonical JSON cannot hold ${value}`)
  }
  return JSON.stringify(value)
}

/** The task's canonical JSON leaves out inline tensors, which follow as tensors. */
export function encodeTrainingRequest({ task }: { task: TrainingTask }): Uint8Array {
  const { dataset, ...rest } = task
  const spec = canonicalJson({ ...rest, dataset: dataset.kind === 'inline' ? { kind: 'inline' } : dataset })
  const specBytes = new TextEncoder().encode(spec)
  const w = new Writer()
    .ascii(MAGIC.trainingRequest)
    .u8(CANONICAL_FORMAT_VERSION)
    .u32(specBytes.length)
    .bytes(specBytes)
  if (dataset.kind === 'inline') {
    w.u8(1)
    writeTensor(w, dataset.features)
    writeTensor(w, dataset.labels)
  } else {
    w.u8(0)
  }
  return w.finish()
}

/** Decodes the task's JSON and inline tensors; validate the result with normalizeTrainingTask before use. */
export function decodeTrainingRequest(bytes: Uint8Array): {
  spec: Record<string, unknown>
  features?: Tensor
  labels?: Tensor
} {
  const r = new Reader(bytes, 'training request bytes')
  r.header(MAGIC.trainingRequest)
  const text = r.utf8(r.u32())
  let spec: Record<string, unknown>
  try {
    spec = JSON.parse(text)
  } catch (cause) {
    throw new NonRetryableError(`training request spec is not JSON: ${(cause as Error).message}`, { cause })
  }
  if (canonicalJson(spec) !== text) throw new NonRetryableError('training request spec is not in canonical JSON form')
  const inline = r.u8()
  if (inline > 1) throw new NonRetryableError(`training request inline flag must be 0 or 1, got ${inline}`)
  if (inline === 0) {
    r.end()
    return { spec }
  }
  const features = readTensor(r)
  const labels = readTensor(r)
  r.end()
  return { spec, features, labels }
}

export function hashTrainingRequest(body: { task: TrainingTask }): Hex {
  return hashBytes(encodeTrainingRequest(body))
}
