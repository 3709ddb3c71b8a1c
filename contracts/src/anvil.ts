import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import path from 'node:path'

const require = createRequire(import.meta.url)

/** The first ten accounts of anvil's default mnemonic ("test test … junk"). */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const

export interface AnvilOptions {
  /** A fixed port; a free one is picked when omitted. */
  port?: number
  chainId?: number
  /** Seconds between blocks; blocks are mined per transaction when omitted. */
  blockTime?: number
  accounts?: number
  /** Extra command-line flags, e.g. ['--state', 'dir']. */
  args?: string[]
  /**
   * Its own process group: a terminal's Ctrl-C then reaches only the parent, which stops anvil after whatever still
   * uses the chain (the demo gateway does).
   */
  detached?: boolean
}

export interface Anvil {
  rpcUrl: string
  wsUrl: string
  port: number
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

/** Asks the OS for a port nobody listens on. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** The anvil binary that @foundry-rs/anvil installed for this platform. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)
    const bin = path.join(path.dirname(pkg), 'bin', 'anvil')
    if (existsSync(bin)) return bin
  } catch {
    // fall through to the wrapper script
  }
  return require.resolve('@foundry-rs/anvil/bin.mjs')
}

/**
 * Starts anvil on loopback and resolves once it answers JSON-RPC. Without a fixed port anvil binds port 0 itself and
 * reports the port it got: picking a free port first and passing it on would race with other processes doing the
 * same, and a test could end up talking to another test's chain.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--chain-id',
    String(chainId),
    '--accounts',
    String(options.accounts ?? 10),
    ...(options.blockTime ? ['--block-time', String(options.blockTime)] : []),
    ...(options.args ?? []),
  ]
  const bin = anvilBinary()
  const spawnOptions: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false }
  const child = bin.endsWith('.mjs')
    ? spawn(process.execPath, [bin, ...args], spawnOptions)
    : spawn(bin, args, spawnOptions)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await gone
  }
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`anvil did not report its port within 15 s: ${stderr}`)), 15_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const m = /Listening on [0-9.]+:([0-9]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        // anvil logs every request; keep the pipe flowing so it never blocks on a full buffer.
        child.stdout?.resume()
        resolve(Number(m[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`anvil exited with code ${code} before it was ready: ${stderr || out.slice(-500)}`))
    })
  }).catch(async (error) => {
    await stop()
    throw error
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
  for (;;) {
    const ready = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    }).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`anvil did not answer on ${rpcUrl} within 15 s: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { rpcUrl, wsUrl: `ws://127.0.0.1:${port}`, port, chainId, process: child, stop }
}
