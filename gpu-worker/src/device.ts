import { execFile } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { promisify } from 'node:util'

/** What a worker advertises about where models run. */
export interface DeviceInfo {
  kind: 'cuda' | 'cpu'
  name: string
  memoryBytes: number
}

const UNIT_BYTES: Record<string, number> = { kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }

/** Parses the first GPU from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` ("NVIDIA H100, 81559 MiB"). */
export function parseNvidiaSmi(text: string): { name: string; memoryBytes: number } {
  const line = text.split('\n').find((l) => l.trim() !== '')
  const match = line?.match(/^(.*),\s*([\d.]+)\s*(KiB|MiB|GiB)\s*$/i)
  if (!match) throw new Error(`unexpected nvidia-smi output: ${JSON.stringify(text.slice(0, 200))}`)
  const [, name, amount, unit] = match as unknown as [string, string, string, string]
  return { name: name.trim(), memoryBytes: Math.round(Number(amount) * (UNIT_BYTES[unit.toLowerCase()] as number)) }
}

export async function detectCudaDevice(): Promise<DeviceInfo> {
  const { stdout } = await promisify(execFile)(
    'nvidia-smi',
    ['--query-gpu=name,memory.total', '--format=csv,noheader'],
    { timeout: 5000 },
  )
  return { kind: 'cuda', ...parseNvidiaSmi(stdout) }
}

export function cpuDevice(): DeviceInfo {
  const model = cpus()[0]?.model.trim() || 'unknown CPU'
  return { kind: 'cpu', name: `${model} (${cpus().length} threads)`, memoryBytes: totalmem() }
}
