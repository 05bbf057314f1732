import t from 'tap'
import { Batcher } from '../../src/db/batcher.js'

type Item = { key: string; value: number }

/** A batcher whose statements finish when the test says so, recording what ran how. */
function recordingBatcher(opts: { maxInFlight?: number; overlapAfterMs?: number; maxBatch?: number; failMany?: Error; failOne?: (item: Item) => boolean } = {}) {
  const ran: Array<{ kind: 'one' | 'many'; items: number[] }> = []
  const pending: Array<() => void> = []
  const finish = async () => {
    // let the statement that just finished hand its callers their results before the next is let go
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  const gate = () => new Promise<void>((resolve) => pending.push(resolve))
  const batcher = new Batcher<Item, string>({
    maxInFlight: opts.maxInFlight ?? 1,
    ...(opts.overlapAfterMs === undefined ? {} : { overlapAfterMs: opts.overlapAfterMs }),
    maxBatch: opts.maxBatch ?? 100,
    key: (item) => item.key,
    runOne: async (item) => {
      ran.push({ kind: 'one', items: [item.value] })
      await gate()
      if (opts.failOne?.(item)) throw new Error(`item ${item.value} failed`)
      return `one:${item.value}`
    },
    runMany: async (items) => {
      ran.push({ kind: 'many', items: items.map((i) => i.value) })
      await gate()
      if (opts.failMany) throw opts.failMany
      return items.map((i) => `many:${i.value}`)
    },
  })
  const releaseAll = async () => {
    while (pending.length > 0) {
      for (const release of pending.splice(0)) release()
      await finish()
    }
  }
  return { batcher, ran, releaseAll }
}

t.test('a call alone runs at once, by itself', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher()
  const answer = batcher.run({ key: 'a', value: 1 })
  t.same(ran, [{ kind: 'one', items: [1] }])
  await releaseAll()
  t.equal(await answer, 'one:1')
})

t.test('calls arriving while a statement runs go together as the next batch, each getting its own result', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher()
  const answers = [1, 2, 3, 4].map((value) => batcher.run({ key: `s${value}`, value }))
  t.same(ran, [{ kind: 'one', items: [1] }], 'the others wait')
  await releaseAll()
  t.same(await Promise.all(answers), ['one:1', 'many:2', 'many:3', 'many:4'])
  t.same(ran, [{ kind: 'one', items: [1] }, { kind: 'many', items: [2, 3, 4] }])
})

t.test('calls of the same key never share a batch and keep their order', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher()
  const items: Item[] = [{ key: 'x', value: 0 }, { key: 'a', value: 1 }, { key: 'a', value: 2 }, { key: 'b', value: 3 }, { key: 'a', value: 4 }]
  const answers = items.map((item) => batcher.run(item))
  await releaseAll()
  await Promise.all(answers)
  t.same(ran.map((r) => r.items), [[0], [1, 3], [2], [4]])
})

t.test('a batch takes at most maxBatch calls; the rest wait for the next', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher({ maxBatch: 2 })
  const answers = [0, 1, 2, 3, 4].map((value) => batcher.run({ key: `s${value}`, value }))
  await releaseAll()
  await Promise.all(answers)
  t.same(ran.map((r) => r.items), [[0], [1, 2], [3, 4]])
})

t.test('up to maxInFlight statements run side by side before calls queue', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher({ maxInFlight: 2 })
  const answers = [0, 1, 2].map((value) => batcher.run({ key: `s${value}`, value }))
  t.same(ran, [{ kind: 'one', items: [0] }, { kind: 'one', items: [1] }], 'the third waits')
  await releaseAll()
  t.same(await Promise.all(answers), ['one:0', 'one:1', 'one:2'])
  t.same(ran.map((r) => r.items), [[0], [1], [2]])
})

t.test('with overlapAfterMs, calls wait for the running statement and go together after it', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher({ maxInFlight: 2, overlapAfterMs: 10_000 })
  const answers = [0, 1, 2].map((value) => batcher.run({ key: `s${value}`, value }))
  t.same(ran.map((r) => r.kind), ['one'], 'a second statement may run, but the running one is young: the other two wait')
  await releaseAll()
  t.same(await Promise.all(answers), ['one:0', 'many:1', 'many:2'])
  t.same(ran.map((r) => `${r.kind}:${r.items.join(',')}`), ['one:0', 'many:1,2'])
})

t.test('with overlapAfterMs, a statement that runs that long (held up by a row lock) no longer holds up the calls behind it', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher({ maxInFlight: 2, overlapAfterMs: 30 })
  const answers = [0, 1, 2].map((value) => batcher.run({ key: `s${value}`, value }))
  t.same(ran.map((r) => r.kind), ['one'], 'the other two wait')
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.same(ran.map((r) => `${r.kind}:${r.items.join(',')}`), ['one:0', 'many:1,2'], 'the waiting calls started beside the running one')
  const late = batcher.run({ key: 's3', value: 3 })
  t.equal(ran.length, 2, 'maxInFlight still holds: the fourth waits')
  await releaseAll()
  t.same(await Promise.all([...answers, late]), ['one:0', 'many:1', 'many:2', 'one:3'])
})

// as postgres.js reports them: the server's answer to the statement, and a connection lost under it
const refused = Object.assign(new Error('deadlock detected'), { name: 'PostgresError', code: '40P01' })
const connectionLost = [
  Object.assign(new Error('terminating connection due to administrator command'), { name: 'PostgresError', code: '57P01' }),
  Object.assign(new Error('write CONNECTION_CLOSED localhost:5432'), { code: 'CONNECTION_CLOSED' }),
]

t.test('when the server refuses a batch, each of its calls runs alone and only the one that fails alone fails its caller', async (t) => {
  const { batcher, ran, releaseAll } = recordingBatcher({ failMany: refused, failOne: (item) => item.value === 2 })
  const answers = [0, 1, 2, 3].map((value) => batcher.run({ key: `s${value}`, value }).catch((err: Error) => err.message))
  await releaseAll()
  t.same(await Promise.all(answers), ['one:0', 'one:1', 'item 2 failed', 'one:3'])
  t.same(ran.map((r) => `${r.kind}:${r.items.join(',')}`), ['one:0', 'many:1,2,3', 'one:1', 'one:2', 'one:3'])
})

t.test('a batch that fails otherwise (its connection lost, a bug) fails every one of its callers, and nothing runs again', async (t) => {
  for (const failMany of [...connectionLost, new Error('batch failed')]) {
    const { batcher, ran, releaseAll } = recordingBatcher({ failMany })
    const answers = [0, 1, 2].map((value) => batcher.run({ key: `s${value}`, value }).catch((err: Error) => err.message))
    await releaseAll()
    t.same(await Promise.all(answers), ['one:0', failMany.message, failMany.message], failMany.message)
    t.same(ran.map((r) => `${r.kind}:${r.items.join(',')}`), ['one:0', 'many:1,2'])
  }
})
