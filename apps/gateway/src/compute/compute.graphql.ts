import { tensorToWire } from '@computegraph/gpu-worker/protocol'
import type { GraphqlContext, SchemaExtension } from '../graphql/schema-extension'
import type { ComputeService } from './compute.service'
import type { InferenceOutcome, QueuedOutcome } from './inference.service'
import type { TrainingService, TrainingUpdate } from './training.service'

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

input TrainingDatasetInput {
  "generated (a market dataset the worker generates from a seed) or inline"
  kind: String!
  "Generated: market-direction or market-volatility"
  name: String
  rows: Int
  seed: Int
  "Inline: rows of features"
  features: [[Float!]!]
  "Inline: one label per row"
  labels: [Float!]
}

input TrainInput {
  "linear, logistic or mlp"
  kind: String!
  "Name of the model it produces"
  name: String
  dataset: TrainingDatasetInput!
  epochs: Int
  learningRate: Float
  batchSize: Int
  seed: Int
  "adam or sgd"
  optimizer: String
  hiddenUnits: [Int!]
  "relu or tanh"
  activation: String
  requester: String
  requestId: String
}

"A training job: its progress while it runs, the model it produced when done"
type TrainingJob {
  id: ID!
  "queued, running, completed or failed"
  status: String!
  epoch: Int
  epochs: Int
  loss: Float
  "The trained model, servable by id or name once completed"
  model: WorkerModel
  "Provider address of the worker that trained it"
  worker: Bytes
  error: String
}

extend type Subscription {
  "Each progress step of a training job (one per epoch), then its completion or failure"
  trainingJob(id: ID!): TrainingJob!
}

extend type Query {
  "A training job by id"
  trainingJob(id: ID!): TrainingJob
  "Workers connected to this gateway replica"
  workers: [Worker!]!
  "Models the gateway can route to, with how many connected workers hold each"
  computeModels: [ComputeModel!]!
  "A request accepted earlier, by id"
  inferenceRequest(id: ID!): InferenceResult
}

extend type Mutation {
  "Trains a model on a worker (deterministic from its seed); follow it with the trainingJob subscription"
  train(input: TrainInput!): TrainingJob!
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
    receiptDigest: outcome.receipt.attestation?.attestation.receiptDigest ?? null,
    worker: outcome.worker.provider.toLowerCase(),
    attempts: outcome.attempts,
  }
}

/** The compute part of the GraphQL API: live workers, models, and the infer mutation. */
/** GraphQL's inline dataset (rows of numbers) in the worker protocol's wire form. */
function trainingInput(input: Record<string, unknown>): Record<string, unknown> {
  const dataset = { ...(input.dataset as Record<string, unknown>) }
  for (const key of Object.keys(dataset)) if (dataset[key] === null) delete dataset[key]
  if (dataset.kind === 'inline') {
    const features = (dataset.features ?? []) as number[][]
    const labels = (dataset.labels ?? []) as number[]
    dataset.features = tensorToWire({
      dtype: 'float32',
      shape: [features.length, features[0]?.length ?? 0],
      data: Float32Array.from(features.flat()),
    })
    dataset.labels = tensorToWire({ dtype: 'float32', shape: [labels.length], data: Float32Array.from(labels) })
  }
  const out: Record<string, unknown> = { ...input, dataset }
  for (const key of Object.keys(out)) if (out[key] === null) delete out[key]
  return out
}

const finished = (u: TrainingUpdate) => u.status === 'completed' || u.status === 'failed'

/** The job's current state, then each update until it completes or fails (then the subscription ends). */
async function* trainingUpdates({ training, id }: { training: TrainingService; id: string }) {
  const queue: TrainingUpdate[] = []
  let wake: (() => void) | undefined
  // Listen before reading the state, so no update falls between the two.
  const off = training.subscribe(id, (u) => {
    queue.push(u)
    wake?.()
  })
  try {
    const first = await training.status(id)
    yield { trainingJob: toTrainingApi(first) }
    if (finished(first)) return
    for (;;) {
      while (queue.length > 0) {
        const u = queue.shift() as TrainingUpdate
        yield { trainingJob: toTrainingApi(u) }
        if (finished(u)) return
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  } finally {
    off()
  }
}

const toTrainingApi = (u: TrainingUpdate) => ({ ...u, worker: u.worker?.toLowerCase() ?? null })

export function computeSchema({
  compute,
  training,
}: {
  compute: ComputeService
  training: TrainingService
}): SchemaExtension {
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
        trainingJob: {
          resolve: async (_: never, args: { id: string }) => toTrainingApi(await training.status(args.id)),
        },
        inferenceRequest: {
          resolve: async (_: never, args: { id: string }) => toApi(await compute.request(args.id)),
        },
      },
      Subscription: {
        trainingJob: {
          subscribe: (_: unknown, args: { id: string }) => trainingUpdates({ training, id: args.id }),
        },
      },
      Mutation: {
        train: {
          resolve: async (_: never, args: { input: Record<string, unknown> }, ctx: GraphqlContext) =>
            toTrainingApi(await training.train(trainingInput(args.input), { apiKey: ctx.apiKey })),
        },
        infer: {
          resolve: async (
            _: never,
            args: { input: Record<string, unknown> & { parameters?: { key: string; value: string }[] }; wait: boolean },
            ctx: GraphqlContext,
          ) => {
            const { parameters, ...rest } = args.input
            const request = {
              ...rest,
              parameters: parameters ? Object.fromEntries(parameters.map((p) => [p.key, p.value])) : undefined,
            }
            return toApi(await compute.infer(request as never, { wait: args.wait, apiKey: ctx.apiKey }))
          },
        },
      },
    },
  }
}
