import { open, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { sleep } from '../common/errors'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * PGlite's data folder belongs to one process at a time: a lockfile with the holder's pid, taken before opening it.
 * A lockfile whose process is gone is stale and taken over.
 */
export async function acquireDataDirLock({
  dataDir,
  signal,
  onWait,
  pollMs = 500,
}: {
  dataDir: string
  signal?: AbortSignal
  onWait?: () => void
  pollMs?: number
}): Promise<{ release(): Promise<void> }> {
  const file = path.join(dataDir, 'computegraph.lock')
  let waited = false
  for (;;) {
    try {
      const handle = await open(file, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return { release: () => rm(file, { force: true }) }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => '0'))
    if (!pid || !alive(pid)) {
      await rm(file, { force: true })
      continue
    }
    if (!waited) onWait?.()
    waited = true
    if (signal?.aborted) throw new Error(`aborted while waiting for ${file} (held by pid ${pid})`)
    await sleep(pollMs, signal)
  }
}
