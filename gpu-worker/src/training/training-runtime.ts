import { createRequire } from 'node:module'
import { type Hex, keccak256, stringToBytes } from 'viem'

// Read from package.json so that advertising the runtime does not load tfjs itself.
export const TFJS_VERSION: string = createRequire(import.meta.url)('@tensorflow/tfjs/package.json').version

/** The trainer, its backend and the ONNX exporter: what a training receipt's runtimeId names. */
export const TRAINING_RUNTIME = `@tensorflow/tfjs@${TFJS_VERSION}/cpu+computegraph-onnx@1`
export const TRAINING_RUNTIME_ID: Hex = keccak256(stringToBytes(TRAINING_RUNTIME))
