import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { alive } from '../db/data-dir-lock'

const LIFELINE = fileURLToPath(new URL('./lifeline.ts', import.meta.url))

// A parent that starts a lifeline, one child in its own process group (as the demo's anvil and workers are), prints
// the child's pid and waits to be killed.
const PARENT = `
import { spawn } from 'node:child_process'
import { startLifeline } from ${JSON.stringify(LIFELINE)}
const lifeline = startLifeline()
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true })
lifeline.watch(child)
console.log(child.pid)
setInterval(() => {}, 1000)
`

const started: number[] = []
afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL')
})

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (alive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

describe('the demo lifeline', () => {
  it('ends a child in its own process group when its parent is SIGKILLed', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PARENT], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    started.push(parent.pid as number)
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
      parent.once('exit', (code) => reject(new Error(`the parent exited with ${code}`)))
    })
    started.push(childPid)
    expect(alive(childPid)).toBe(true)

    parent.kill('SIGKILL')
    // The watcher sends SIGTERM at once; a plain node child dies of it.
    expect(await gone(childPid, 5_000)).toBe(true)
  })
})
