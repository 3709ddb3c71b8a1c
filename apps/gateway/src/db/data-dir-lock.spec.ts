import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireDataDirLock, DataDirInUseError } from './data-dir-lock'

let dataDir: string
const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'cg-lock-'))
})

afterAll(async () => {
  holder.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

describe('the data folder lock', () => {
  it('refuses at once, in one line naming the folder and the holder, a folder another live process holds', async () => {
    await writeFile(path.join(dataDir, 'computegraph.lock'), String(holder.pid))
    const refused = await acquireDataDirLock({ dataDir, wait: false }).catch((e: Error) => e)
    expect(refused).toBeInstanceOf(DataDirInUseError)
    expect((refused as Error).message).toBe(
      `data folder ${dataDir} is in use by process ${holder.pid} (another gateway?): stop it, or set DATA_DIR to another folder`,
    )
    await rm(path.join(dataDir, 'computegraph.lock'))
  })

  it('is shared within the process that holds it, and kept until its last holder lets go', async () => {
    const lockfile = path.join(dataDir, 'computegraph.lock')
    const demo = await acquireDataDirLock({ dataDir, wait: false })
    const database = await acquireDataDirLock({ dataDir, wait: false })
    await database.release()
    expect(existsSync(lockfile)).toBe(true)
    await demo.release()
    expect(existsSync(lockfile)).toBe(false)
  })
})
