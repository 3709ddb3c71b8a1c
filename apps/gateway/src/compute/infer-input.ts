import type { ModelEntry } from '@computegraph/gpu-worker/model-manifest'
import { describe as describeValue, tensorFromWire } from '@computegraph/gpu-worker/protocol'
import { describeShape, type Tensor } from '@computegraph/gpu-worker/tensor'
import { type Address, getAddress, isAddress, maxUint256, zeroAddress } from 'viem'
import { InvalidComputeInputError } from './compute.errors'
import { CALLER_REQUEST_ID } from './request-id'

/** Rows one request may carry: far above a bot's batch, far below what would stall a worker. */
export const MAX_ROWS = 10_000
const PARAMETER_KEY = /^[A-Za-z0-9_.-]{1,64}$/
// Names that an object literal treats as its prototype: assigning one would silently drop the parameter.
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** An inference request as clients send it, over GraphQL or POST /v1/infer. */
export interface InferRequest {
  /** Model id (0x + 64 hex) or name. */
  model: string
  /** Rows of feature values. */
  input?: unknown
  /** Or exact float32 values: `{ shape, dataB64 }` as the worker protocol carries them. */
  tensor?: unknown
  parameters?: unknown
  /** Address the receipt names as requester; the zero address when absent. */
  requester?: unknown
  /** Highest price per unit (row) accepted, decimal string. */
  maxPricePerUnit?: unknown
  /** Client-chosen id: sending the same id again returns the first request's outcome (idempotent retries). */
  requestId?: unknown
}

export interface ParsedInferRequest {
  tensor: Tensor
  parameters: Record<string, string>
  requester: Address
  maxPricePerUnit?: bigint
  requestId?: string
}

const bad = (message: string): never => {
  throw new InvalidComputeInputError(message)
}

/** Checks a request against the model's input spec; every error names the field and what was expected. */
export function parseInferRequest({
  request,
  model,
}: {
  request: InferRequest
  model: ModelEntry
}): ParsedInferRequest {
  const columns = model.input.shape[model.input.shape.length - 1]
  const width = typeof columns === 'number' ? columns : undefined
  const features = model.input.columns ? ` (${model.input.columns.join(', ')})` : ''
  let tensor: Tensor
  if (request.tensor !== undefined && request.input !== undefined) bad('give either input or tensor, not both')
  if (request.tensor !== undefined) {
    try {
      tensor = tensorFromWire(request.tensor, 'tensor')
    } catch (error) {
      return bad((error as Error).message)
    }
  } else {
    const rows = request.input
    if (!Array.isArray(rows) || rows.length === 0) {
      return bad('input must be a non-empty array of rows, each an array of numbers')
    }
    if (rows.length > MAX_ROWS) bad(`input has ${rows.length} rows, more than the limit of ${MAX_ROWS}`)
    const n = Array.isArray(rows[0]) ? rows[0].length : 0
    const data = new Float32Array(rows.length * n)
    rows.forEach((row, i) => {
      if (!Array.isArray(row)) bad(`input[${i}] must be an array of numbers`)
      if (row.length !== n) bad(`input[${i}] has ${row.length} values, input[0] has ${n}: rows must be equally long`)
      row.forEach((v: unknown, j: number) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          bad(`input[${i}][${j}] must be a finite number, got ${describeValue(v)}`)
        }
        data[i * n + j] = v as number
      })
    })
    tensor = { dtype: 'float32', shape: [rows.length, n], data }
  }
  const rank = model.input.shape.length
  if (tensor.shape.length !== rank) {
    bad(
      `model ${model.name} takes a tensor of shape ${describeShape(model.input.shape)}, got ${describeShape(tensor.shape)}`,
    )
  }
  model.input.shape.forEach((d, i) => {
    if (typeof d === 'number' && tensor.shape[i] !== d) {
      bad(
        i === rank - 1 && width !== undefined
          ? `model ${model.name} takes ${width} features per row${features}, got ${tensor.shape[i]}`
          : `model ${model.name} takes a tensor of shape ${describeShape(model.input.shape)}, got ${describeShape(tensor.shape)}`,
      )
    }
  })
  if ((tensor.shape[0] ?? 0) === 0) bad('input has no rows')
  if ((tensor.shape[0] ?? 0) > MAX_ROWS) bad(`input has ${tensor.shape[0]} rows, more than the limit of ${MAX_ROWS}`)
  for (let k = 0; k < tensor.data.length; k++) {
    if (!Number.isFinite(tensor.data[k])) {
      const w = tensor.shape[1] ?? 1
      bad(`tensor holds ${tensor.data[k]} at row ${Math.floor(k / w)}, column ${k % w}: inputs must be finite`)
    }
  }
  const parameters: Record<string, string> = {}
  if (request.parameters !== undefined && request.parameters !== null) {
    if (typeof request.parameters !== 'object' || Array.isArray(request.parameters)) {
      bad('parameters must be an object of string values')
    }
    for (const [k, v] of Object.entries(request.parameters as object)) {
      if (RESERVED_KEYS.has(k)) bad(`parameters.${k}: ${k} is a reserved name; use another key`)
      if (!PARAMETER_KEY.test(k) || typeof v !== 'string') {
        bad(`parameters.${k.length > 64 ? `${k.slice(0, 64)}…` : k} must be a string under a simple key`)
      }
      parameters[k] = v
    }
  }
  let requester: Address = zeroAddress
  if (request.requester !== undefined && request.requester !== null) {
    if (typeof request.requester !== 'string' || !isAddress(request.requester, { strict: false })) {
      bad(`requester must be a 0x-prefixed 20-byte address, got ${describeValue(request.requester)}`)
    }
    requester = getAddress(request.requester as string)
  }
  let maxPricePerUnit: bigint | undefined
  if (request.maxPricePerUnit !== undefined && request.maxPricePerUnit !== null) {
    const v = request.maxPricePerUnit
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v) || BigInt(v) > maxUint256) {
      bad(`maxPricePerUnit must be an integer from 0 to 2^256-1 as a decimal string, got ${describeValue(v)}`)
    }
    maxPricePerUnit = BigInt(v as string)
  }
  let requestId: string | undefined
  if (request.requestId !== undefined && request.requestId !== null) {
    if (typeof request.requestId !== 'string' || !CALLER_REQUEST_ID.test(request.requestId)) {
      bad('requestId must be 1 to 128 letters, digits, _ or -')
    }
    requestId = request.requestId as string
  }
  return { tensor, parameters, requester, maxPricePerUnit, requestId }
}
