import { open, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { NonRetryableError, sleep } from '../common/errors'

/** Another live process holds the data folder: its database, and in the demo its chain state. */
export class DataDirInUseError extends NonRetryableError {
  override name = 'DataDirInUseError'
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// This process's holds, by lockfile: the demo takes the folder at start and the database opens inside it.
const held = new Map<string, number>()

/**
 * A data folder belongs to one process at a time: a lockfile with the holder's pid, taken before opening anything
 * in it (PGlite's files, the demo's chain state). A lockfile whose process is gone is stale and taken over; one this
 * process holds already is shared (released when the last holder lets go). Another live holder is waited for, or
 * with `wait: false` refused at once with a DataDirInUseError.
 */
export async function acquireDataDirLock({
  dataDir,
  signal,
  onWait,
  wait = true,
  pollMs = 500,
}: {
  dataDir: string
  signal?: AbortSignal
  onWait?: () => void
  wait?: boolean
  pollMs?: number
}): Promise<{ release(): Promise<void> }> {
  const file = path.join(dataDir, 'computegraph.lock')
  const release = async () => {
    const count = (held.get(file) ?? 1) - 1
    if (count > 0) return void held.set(file, count)
    held.delete(file)
    await rm(file, { force: true })
  }
  let waited = false
  for (;;) {
    const count = held.get(file)
    if (count) {
      held.set(file, count + 1)
      return { release }
    }
    try {
      const handle = await open(file, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      held.set(file, 1)
      return { release }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => '0'))
    if (!pid || !alive(pid)) {
      await rm(file, { force: true })
      continue
    }
    if (!wait) {
      throw new DataDirInUseError(
        `data folder ${dataDir} is in use by process ${pid} (another gateway?): stop it, or set DATA_DIR to another folder`,
      )
    }
    if (!waited) onWait?.()
    waited = true
    if (signal?.aborted) throw new Error(`aborted while waiting for ${file} (held by pid ${pid})`)
    await sleep(pollMs, signal)
  }
}
