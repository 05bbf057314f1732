import { ChatError } from './errors.js'

/**
 * Bounds the password hashes computed at once. scrypt costs ~50 ms and 32 MiB each and runs
 * on libuv's small thread pool, which DNS lookups and file reads share: a flood of logins
 * would otherwise queue without end and starve everything else. Past `concurrency` a login
 * waits in a queue of `queue`; past that it is refused at once (429, retry in a second).
 */
export class PasswordHashGate {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly concurrency: number, private readonly queue: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) {
      this.running++
    } else {
      if (this.waiting.length >= this.queue) {
        throw new ChatError(429, 'RATE_LIMITED', 'Too many sign-ins at once; retry in a second', undefined, 1)
      }
      // the finishing hash hands its slot over, so `running` stays counted
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }
}
