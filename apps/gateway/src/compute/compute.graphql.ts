import type { SchemaExtension } from '../graphql/schema-extension'
import type { ComputeService } from './compute.service'
import type { InferenceOutcome, QueuedOutcome } from './inference.service'

export const COMPUTE_SCHEMA = Symbol('COMPUTE_SCHEMA')

const SDL = `
"A worker connected to this gateway replica, as it advertised itself and as the router measures it"
type Worker {
  id: ID!
  "The provider address the worker proved control of"
  provider: Bytes!
  device: WorkerDevice!
  "Runtime and execution provider, e.g. onnxruntime-node@1.30.0/cuda"
  runtime: String!
  models: [WorkerModel!]!
  concurrency: Int!
  maxBatchSize: Int!
  pricePerUnit: BigInt!
  "Stake in the indexed state, checked on every heartbeat"
  stake: BigInt!
  "Requests sent to it and not answered yet"
  outstanding: Int!
  "Rows waiting in its batching queue, as of its last heartbeat"
  queuedRows: Int!
  "Moving average of request round trips, ms"
  latencyMs: Float
  pingMs: Float
  completed: Int!
  failed: Int!
  "Suspended after repeated errors; back after a cool-down"
  suspended: Boolean!
  connectedAt: String!
  software: String!
}

type WorkerDevice {
  "cuda or cpu"
  kind: String!
  name: String!
  memoryBytes: Float!
}

type WorkerModel {
  id: Bytes!
  name: String!
}

"A model the gateway can route to"
type ComputeModel {
  "keccak256 of the ONNX bytes"
  id: Bytes!
  name: String!
  kind: String!
  description: String!
  inputShape: [String!]!
  "Feature names of the input's last dimension"
  features: [String!]
  outputShape: [String!]!
  "Connected workers that hold it"
  workers: Int!
}

input TensorInput {
  shape: [Int!]!
  "base64 of the raw little-endian float32 values"
  dataB64: String!
}

input ParameterInput {
  key: String!
  value: String!
}

input InferInput {
  "Model id (0x…) or name"
  model: String!
  "Rows of feature values"
  input: [[Float!]!]
  "Or exact float32 values"
  tensor: TensorInput
  parameters: [ParameterInput!]
  "Address the receipt names as requester (default: the zero address)"
  requester: String
  "Highest price per row accepted"
  maxPricePerUnit: BigInt
  "Idempotency key: the same id returns the first request's outcome"
  requestId: String
}

type InferenceResult {
  requestId: ID!
  "completed, queued, running or failed"
  status: String!
  model: WorkerModel
  "Output rows"
  output: [[Float!]!]
  outputShape: [Int!]
  "The receipt bundle as JSON: receipt, signature, domain, request and output bodies, the gateway's attestation"
  receipt: String
  "EIP-712 digest of the receipt"
  receiptDigest: Bytes
  "Provider address of the worker that computed it"
  worker: Bytes
  attempts: Int
  "Why it failed (failed requests)"
  error: String
  errorReason: String
}

extend type Query {
  "Workers connected to this gateway replica"
  workers: [Worker!]!
  "Models the gateway can route to, with how many connected workers hold each"
  computeModels: [ComputeModel!]!
  "A request accepted earlier, by id"
  inferenceRequest(id: ID!): InferenceResult
}

extend type Mutation {
  "Runs a model on a staked worker and returns the output with its verifiable receipt; wait: false queues it"
  infer(input: InferInput!, wait: Boolean = true): InferenceResult!
}
`

function rows(shape: number[], data: number[]): number[][] {
  const width = shape.slice(1).reduce((n, d) => n * d, 1)
  const out: number[][] = []
  for (let i = 0; i < (shape[0] ?? 0); i++) out.push(data.slice(i * width, (i + 1) * width))
  return out
}

function toApi(outcome: InferenceOutcome | QueuedOutcome) {
  if (outcome.status !== 'completed') {
    return {
      requestId: outcome.requestId,
      status: outcome.status,
      error: outcome.error?.message ?? null,
      errorReason: outcome.error?.reason ?? null,
    }
  }
  return {
    requestId: outcome.requestId,
    status: outcome.status,
    model: outcome.model,
    output: rows(outcome.output.shape, outcome.output.data),
    outputShape: outcome.output.shape,
    receipt: JSON.stringify(outcome.receipt),
    receiptDigest: outcome.receipt.attestation.attestation.receiptDigest,
    worker: outcome.worker.provider.toLowerCase(),
    attempts: outcome.attempts,
  }
}

/** The compute part of the GraphQL API: live workers, models, and the infer mutation. */
export function computeSchema({ compute }: { compute: ComputeService }): SchemaExtension {
  return {
    typeDefs: SDL,
    resolvers: {
      Query: {
        workers: {
          resolve: () => compute.workers().map((w) => ({ ...w, provider: w.provider.toLowerCase() })),
        },
        computeModels: {
          resolve: () =>
            compute.models().map((m) => ({
              ...m,
              inputShape: m.input.shape.map(String),
              features: m.input.columns ?? null,
              outputShape: m.output.shape.map(String),
            })),
        },
        inferenceRequest: {
          resolve: async (_: never, args: { id: string }) => toApi(await compute.request(args.id)),
        },
      },
      Mutation: {
        infer: {
          resolve: async (
            _: never,
            args: { input: Record<string, unknown> & { parameters?: { key: string; value: string }[] }; wait: boolean },
          ) => {
            const { parameters, ...rest } = args.input
            const request = {
              ...rest,
              parameters: parameters ? Object.fromEntries(parameters.map((p) => [p.key, p.value])) : undefined,
            }
            return toApi(await compute.infer(request as never, { wait: args.wait }))
          },
        },
      },
    },
  }
}
