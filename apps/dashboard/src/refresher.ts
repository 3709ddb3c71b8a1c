/**
 * Coalesces refetches: live events ask for tasks by name, and each task runs at most once per `minIntervalMs`
 * however many blocks arrive meanwhile, so a busy chain cannot push the page past the gateway's rate limit.
 */
export class Refresher<Name extends string> {
  private readonly pending = new Set<Name>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private running = false
  private last = 0

  constructor(
    private readonly tasks: Record<Name, () => Promise<void>>,
    private readonly minIntervalMs: number,
    private readonly onError: (name: Name, error: unknown) => void,
  ) {}

  request(...names: Name[]) {
    for (const n of names) this.pending.add(n)
    this.schedule()
  }

  private schedule() {
    if (this.timer !== undefined || this.running || this.pending.size === 0) return
    const wait = Math.max(0, this.last + this.minIntervalMs - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.run()
    }, wait)
  }

  private async run() {
    this.running = true
    this.last = Date.now()
    const names = [...this.pending]
    this.pending.clear()
    await Promise.all(
      names.map(async (name) => {
        try {
          await this.tasks[name]()
        } catch (error) {
          this.onError(name, error)
        }
      }),
    )
    this.running = false
    this.schedule()
  }
}
