import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../indexer.cli.ts')

/** The indexer CLI as a real child process, for crash and lock tests. */
export function spawnIndexer(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', require.resolve('tsx'), CLI], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const onData = (chunk: Buffer) => {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(l)
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    child,
    lines,
    exited,
    async waitFor(pattern: RegExp, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = lines.find((l) => pattern.test(l))
        if (hit) return hit
        if (child.exitCode !== null)
          throw new Error(`indexer exited (${child.exitCode}) before ${pattern}:\n${lines.join('\n')}`)
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${lines.join('\n')}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}
