import { NonRetryableError } from './errors'

/** The element types computegraph moves between gateway and worker. Tabular models use float32. */
export const TENSOR_DTYPES = ['float32'] as const
export type TensorDtype = (typeof TENSOR_DTYPES)[number]

/** A dense row-major tensor. */
export interface Tensor {
  dtype: TensorDtype
  shape: number[]
  data: Float32Array
}

export const MAX_TENSOR_RANK = 8
/** Bounds one request's memory; far above any tabular batch. */
export const MAX_TENSOR_ELEMENTS = 16 * 1024 * 1024

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

export function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`
}

/** Checks a shape and that the data length matches it; names what is wrong. */
export function assertTensor({ tensor, what = 'tensor' }: { tensor: Tensor; what?: string }): void {
  if (!(TENSOR_DTYPES as readonly string[]).includes(tensor.dtype)) {
    throw new NonRetryableError(`${what} dtype must be one of ${TENSOR_DTYPES.join(', ')}, got ${tensor.dtype}`)
  }
  const { shape } = tensor
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > MAX_TENSOR_RANK) {
    throw new NonRetryableError(
      `${what} shape must have 1 to ${MAX_TENSOR_RANK} dimensions, got ${JSON.stringify(shape)}`,
    )
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new NonRetryableError(`${what} shape ${JSON.stringify(shape)} must hold non-negative integers`)
    }
  }
  const n = elementCount(shape)
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new NonRetryableError(`${what} has ${n} elements, more than the limit of ${MAX_TENSOR_ELEMENTS}`)
  }
  if (tensor.data.length !== n) {
    throw new NonRetryableError(
      `${what} data holds ${tensor.data.length} elements but shape ${describeShape(shape)} needs ${n}`,
    )
  }
}

/** Rejects NaN and ±Infinity, naming the first offending position. */
export function assertFinite({ tensor, what = 'tensor' }: { tensor: Tensor; what?: string }): void {
  const { data, shape } = tensor
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number
    if (!Number.isFinite(v)) {
      throw new NonRetryableError(
        `${what} holds a non-finite value ${v} at ${describeShape(indexToPosition(i, shape))}`,
      )
    }
  }
}

function indexToPosition(index: number, shape: readonly number[]): number[] {
  const position = new Array<number>(shape.length).fill(0)
  let rest = index
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis] as number
    position[axis] = d === 0 ? 0 : rest % d
    rest = d === 0 ? 0 : Math.floor(rest / d)
  }
  return position
}

/** float32 values as little-endian bytes, independent of the host's byte order. */
export function float32ToBytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true)
  return bytes
}

export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0)
    throw new NonRetryableError(`float32 data must be a multiple of 4 bytes, got ${bytes.length}`)
  const values = new Float32Array(bytes.length / 4)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true)
  return values
}

/** True when both tensors have the same dtype, shape and bit patterns (so NaN payloads and -0 count). */
export function tensorsBitwiseEqual(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false
  if (a.shape.some((d, i) => d !== b.shape[i])) return false
  const x = new Uint32Array(a.data.buffer, a.data.byteOffset, a.data.length)
  const y = new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length)
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}
