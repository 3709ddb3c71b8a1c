import { describe, expect, it } from 'vitest'
import {
  compactNumber,
  formatBytes,
  formatCount,
  formatToken,
  microsToSeconds,
  shortHex,
  tokenToNumber,
} from './format'

describe('dashboard formatting', () => {
  it('formats uint256 token amounts exactly, past the range of JavaScript numbers', () => {
    const huge = (2n ** 256n - 1n).toString()
    expect(formatToken(huge, { digits: 0 })).toBe(
      '115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,458',
    )
    expect(formatToken('1234567891234567891234')).toBe('1,234.57')
    expect(formatToken('1000000000000000001', { digits: 18 })).toBe('1.000000000000000001')
    expect(formatToken('0')).toBe('0.00')
    expect(formatToken('4999999999999999')).toBe('0.00')
    expect(formatToken('5000000000000000')).toBe('0.01')
    expect(formatToken('-1500000000000000000')).toBe('-1.50')
  })

  it('scales amounts with bigint before they become chart numbers', () => {
    expect(tokenToNumber('1234567891234567891234')).toBe(1234.567891)
    // 2^60 wei: Number() first would already round the raw value.
    expect(tokenToNumber((2n ** 60n).toString())).toBe(1.152921)
  })

  it('groups counts and shortens hashes', () => {
    expect(formatCount('1234567')).toBe('1,234,567')
    expect(shortHex('0x1234567890abcdef1234567890abcdef12345678')).toBe('0x1234…5678')
    expect(compactNumber(1_234_567)).toBe('1.23M')
    expect(compactNumber(12)).toBe('12')
    expect(compactNumber(0.5)).toBe('0.5')
    expect(formatBytes(16 * 1024 ** 3)).toBe('16 GiB')
  })

  it('reads statistics timestamps in microseconds', () => {
    expect(microsToSeconds('1700000000000000')).toBe(1_700_000_000)
  })
})
