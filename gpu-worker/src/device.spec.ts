import { describe, expect, it } from 'vitest'
import { cpuDevice, parseNvidiaSmi } from './device'

describe('parseNvidiaSmi', () => {
  it('reads the first GPU’s name and memory', () => {
    expect(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n')).toEqual({
      name: 'NVIDIA H100 80GB HBM3',
      memoryBytes: 81559 * 1024 * 1024,
    })
  })

  it('says what it could not read', () => {
    expect(() => parseNvidiaSmi('No devices were found')).toThrow(
      'unexpected nvidia-smi output: "No devices were found"',
    )
  })
})

describe('cpuDevice', () => {
  it('names the CPU and the machine memory', () => {
    const device = cpuDevice()
    expect(device.kind).toBe('cpu')
    expect(device.name).toMatch(/\(\d+ threads\)$/)
    expect(device.memoryBytes).toBeGreaterThan(0)
  })
})
