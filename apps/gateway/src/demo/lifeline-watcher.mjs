// The demo's lifeline: a tiny process that ends the gateway's children when the gateway is gone. Its stdin is a pipe
// whose other end only the gateway holds; the kernel closes that end however the gateway dies (exit, crash, SIGKILL,
// the OOM killer), and this process reads EOF. On stdin: "+<pid>" to watch a child, "-<pid>" once it has exited.
import { createInterface } from 'node:readline'

// Workers drain their in-flight tasks on SIGTERM for up to 10 s (--shutdown-grace-ms); anvil writes its state.
const GRACE_MS = 15_000

const pids = new Set()
const alive = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
let reaping = false
function reap() {
  if (reaping) return
  reaping = true
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + GRACE_MS
  const check = () => {
    const left = [...pids].filter(alive)
    if (left.length > 0 && Date.now() < deadline) return void setTimeout(check, 100)
    for (const pid of left) process.kill(pid, 'SIGKILL')
    process.exit(0)
  }
  check()
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const pid = Number(line.slice(1))
    if (!Number.isInteger(pid) || pid <= 0) return
    if (line.startsWith('+')) pids.add(pid)
    else pids.delete(pid)
  })
  .on('close', reap)
// The terminal's Ctrl-C is for the gateway, which stops its children in order; the lifeline closes after that.
process.on('SIGINT', () => {})
process.on('SIGTERM', reap)
