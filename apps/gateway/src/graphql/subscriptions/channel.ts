/**
 * A bounded queue read as an async iterator. `return()` ends a pending `next()` at once, so a client that stops
 * listening is dropped from the feed without waiting for the next event (an async generator would wait).
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = []
  private waiting?: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void }
  private failure?: Error
  private done = false

  constructor(private readonly o: { capacity: number; overflow: () => Error; onClose: () => void }) {}

  push(value: T): void {
    if (this.done || this.failure) return
    if (this.waiting) {
      const w = this.waiting
      this.waiting = undefined
      w.resolve({ value, done: false })
    } else if (this.queue.length >= this.o.capacity) {
      this.fail(this.o.overflow())
    } else {
      this.queue.push(value)
    }
  }

  fail(error: Error): void {
    if (this.done) return
    this.failure = error
    this.queue.length = 0
    this.o.onClose()
    if (this.waiting) {
      const w = this.waiting
      this.waiting = undefined
      w.reject(error)
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false })
    if (this.failure) {
      const error = this.failure
      this.done = true
      return Promise.reject(error)
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true
      this.queue.length = 0
      this.o.onClose()
      this.waiting?.resolve({ value: undefined, done: true })
      this.waiting = undefined
    }
    return Promise.resolve({ value: undefined, done: true })
  }

  throw(error: Error): Promise<IteratorResult<T>> {
    this.fail(error)
    return this.next()
  }

  [Symbol.asyncIterator]() {
    return this
  }
}
