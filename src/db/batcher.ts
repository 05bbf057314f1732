import { isStatementRefused } from './availability.js'

/**
 * Natural batching for a hot statement (group commit for writes, one round trip for reads):
 * a call runs at once while fewer than `maxInFlight` batches are running, alone, through
 * `runOne`, so at low load nothing waits and nothing changes. Calls that arrive while the
 * limit is reached queue, and when a batch ends, the queue (up to `maxBatch`) goes as the
 * next batch through `runMany`, which answers one result per item, in the items' order.
 * With `overlapAfterMs`, a batch starts beside running ones only once the newest of them has
 * run that long: one at a time while statements are quick (the biggest batches), and a
 * statement held up (waiting for a row lock) holds up the calls behind it no longer than that.
 *
 * Items with the same `key` never share a batch (a statement cannot update one row twice);
 * a later one waits for a later batch, so same-key items are taken in arrival order (with
 * more than one in flight, two such batches can still run at once, as two lone calls can).
 * `runMany` is one statement, so it stores all or nothing: when the server refuses it (a
 * unique violation, a deadlock with another batch: it was rolled back), every item of the
 * batch runs alone through `runOne`, and only the item that fails alone fails its caller.
 * Any other error fails every caller of the batch, as it would have failed each alone: a
 * write whose outcome is unknown (the connection dropped, maybe after the commit) must not
 * run a second time, and while the database is down, a batch's reads rerun one by one would
 * only fail again, each after its own wait.
 */
export type BatcherOptions<In, Out> = {
  runOne: (item: In) => Promise<Out>
  runMany: (items: In[]) => Promise<Out[]>
  maxInFlight: number
  /** unset: up to maxInFlight at once */
  overlapAfterMs?: number
  maxBatch: number
  key?: (item: In) => string
}

type Waiting<In, Out> = { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }

export class Batcher<In, Out> {
  private inFlight = 0
  private queue: Waiting<In, Out>[] = []
  /** when the newest running statement started (performance.now()) */
  private newestStart = -Infinity
  /** set while calls wait for the newest statement to have run overlapAfterMs */
  private overlapTimer: NodeJS.Timeout | undefined

  constructor(private readonly opts: BatcherOptions<In, Out>) {}

  run(item: In): Promise<Out> {
    if (this.queue.length === 0 && this.mayStart()) return this.track(this.opts.runOne(item))
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.armOverlap()
    })
  }

  /** Counts a running statement (alone or a batch) until it ends, then lets the queue go on. */
  private track<T>(running: Promise<T>): Promise<T> {
    this.inFlight++
    this.newestStart = performance.now()
    return running.finally(() => {
      this.inFlight--
      this.next()
    })
  }

  private mayStart(): boolean {
    if (this.inFlight >= this.opts.maxInFlight) return false
    const overlap = this.opts.overlapAfterMs
    return this.inFlight === 0 || overlap === undefined || performance.now() - this.newestStart >= overlap
  }

  private next(): void {
    while (this.queue.length > 0 && this.mayStart()) void this.track(this.runBatch(this.take()))
    this.armOverlap()
  }

  /** Calls wait while a statement runs: once it has run overlapAfterMs, the next batch starts beside it (unless it has ended by then). */
  private armOverlap(): void {
    const overlap = this.opts.overlapAfterMs
    if (overlap === undefined || this.overlapTimer || this.queue.length === 0 || this.inFlight === 0 || this.inFlight >= this.opts.maxInFlight) return
    this.overlapTimer = setTimeout(() => {
      this.overlapTimer = undefined
      this.next()
    }, Math.max(0, this.newestStart + overlap - performance.now()))
    // the statement running keeps the process alive; this timer need not
    this.overlapTimer.unref()
  }

  /** The next batch: up to maxBatch waiting calls in arrival order, one per key. */
  private take(): Waiting<In, Out>[] {
    const key = this.opts.key
    if (!key) return this.queue.splice(0, this.opts.maxBatch)
    const batch: Waiting<In, Out>[] = []
    const rest: Waiting<In, Out>[] = []
    const keys = new Set<string>()
    for (const w of this.queue) {
      const k = key(w.item)
      if (batch.length < this.opts.maxBatch && !keys.has(k)) {
        keys.add(k)
        batch.push(w)
      } else {
        // a later item of a key already taken stays behind it: same-key items are taken in order
        keys.add(k)
        rest.push(w)
      }
    }
    this.queue = rest
    return batch
  }

  private async runBatch(batch: Waiting<In, Out>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting<In, Out>]
      await this.opts.runOne(only.item).then(only.resolve, only.reject)
      return
    }
    let results: Out[]
    try {
      results = await this.opts.runMany(batch.map((w) => w.item))
    } catch (err) {
      if (!isStatementRefused(err)) {
        for (const w of batch) w.reject(err)
        return
      }
      // all or nothing: nothing of the batch was stored, so each item alone tells whose fault it was
      await Promise.all(batch.map((w) => this.opts.runOne(w.item).then(w.resolve, w.reject)))
      return
    }
    batch.forEach((w, i) => w.resolve(results[i] as Out))
  }
}
