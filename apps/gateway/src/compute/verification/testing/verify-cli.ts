import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../verify-receipt.cli.ts')

/** Runs the verify-receipt CLI as its own process to its exit; `stdin` is piped in when given. */
export function runVerifyCli({
  args,
  env = {},
  stdin,
}: {
  args: string[]
  env?: Record<string, string>
  stdin?: string
}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', require.resolve('tsx'), CLI, ...args], {
    env: { ...process.env, DATABASE_URL: '', DEPLOYMENT_FILE: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  child.stdin.end(stdin ?? '')
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}
