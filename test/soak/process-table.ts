import { readdirSync, readFileSync } from 'node:fs'

/** One live process as /proc shows it. `start` (clock ticks since boot) tells a pid's reuse from the same process. */
export interface ProcessInfo {
  pid: number
  ppid: number
  pgid: number
  start: number
  state: string
  command: string
}

function read(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name sits in parentheses and may itself hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    return {
      pid,
      state: fields[0] as string,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      start: Number(fields[19]),
      command,
    }
  } catch {
    return undefined
  }
}

/** Every process on the machine, zombies left out (they have exited; only their parent has not looked yet). */
export function processTable(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .flatMap((name) => {
      const info = read(Number(name))
      return info && info.state !== 'Z' ? [info] : []
    })
}

/** `root` and everything it started, directly or not, as the table shows them now. */
export function processTree({ root, table = processTable() }: { root: number; table?: ProcessInfo[] }): ProcessInfo[] {
  const tree: ProcessInfo[] = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift() as number
    for (const p of table) {
      if (p.pid === pid) tree.push(p)
      if (p.ppid === pid) queue.push(p.pid)
    }
  }
  return tree
}

/** Those of `processes` still running: the same pid with the same start time, and not a zombie. */
export function survivors({ processes }: { processes: ProcessInfo[] }): ProcessInfo[] {
  return processes.filter((p) => {
    const now = read(p.pid)
    return now !== undefined && now.start === p.start && now.state !== 'Z'
  })
}

/** Resident memory of a process in bytes; undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}
