import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WATCHER = fileURLToPath(new URL('./lifeline-watcher.mjs', import.meta.url))

/** Ends the processes it watches when this process dies, however it dies. */
export interface Lifeline {
  /** Watches a child until it exits; the child is SIGTERMed (then SIGKILLed) if this process dies first. */
  watch(child: ChildProcess): void
  /** Lets the watcher go (after the children were stopped in order). */
  close(): void
}

/**
 * Starts the lifeline watcher (lifeline-watcher.mjs). Why a pipe and a watcher rather than the alternatives: Linux's
 * parent-death signal (prctl PR_SET_PDEATHSIG) needs native code from Node, exists on Linux only and follows the
 * thread that forked rather than the process; polling the parent's pid from each child misses nothing but costs a
 * timer in every child and cannot cover anvil, a binary we do not control. A pipe's write end is closed by the kernel
 * whatever kills its holder, on every OS, and one small watcher covers every child, binary or not.
 */
export function startLifeline(): Lifeline {
  const watcher = spawn(process.execPath, [WATCHER], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
  // Neither the watcher nor its pipe keeps this process alive.
  watcher.unref()
  const stdin = watcher.stdin as NonNullable<ChildProcess['stdin']> & { unref?: () => void }
  stdin.unref?.()
  stdin.on('error', () => {})
  return {
    watch(child) {
      const pid = child.pid
      if (pid === undefined || stdin.destroyed) return
      stdin.write(`+${pid}\n`)
      child.once('exit', () => {
        if (!stdin.destroyed) stdin.write(`-${pid}\n`)
      })
    },
    close() {
      stdin.end()
    },
  }
}
