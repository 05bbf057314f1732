import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import postgres from 'postgres'
import { emptyDatabase } from '../helpers/app.js'

// Both fail (hang) without patches/postgres+3.4.9.patch; a hang is reported within the bound.
const HANG_MS = 10_000

function withinBound<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung (is patches/postgres+3.4.9.patch applied?)`)), HANG_MS)
  })
  return Promise.race([work, hang]).finally(() => clearTimeout(timer))
}

t.test('a COPY FROM STDIN the server rejects fails the writable and rolls the transaction back', async (t) => {
  // two connections: without the patch the first stays stuck in its transaction
  const sql = postgres(await emptyDatabase(), { max: 2, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql`create table parent (id int primary key)`
  await sql`create table child (id int primary key, parent int references parent (id))`
  const failed = sql.begin(async (tx) => {
    await tx`insert into parent values (1)`
    const copy = await tx`copy child (id, parent) from stdin`.writable()
    // the foreign key is checked at the end of the COPY, after CopyDone
    await pipeline(Readable.from([Buffer.from('1\t1\n2\t99\n')]), copy)
  })
  await t.rejects(withinBound(failed, 'the failed COPY'), /violates foreign key constraint/)
  t.same(await sql`select * from parent`, [], 'rolled back')
  const stuck = await sql`select pid from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`
  t.same(stuck, [], 'no connection is left in the failed transaction')
})

t.test('a slow reader of COPY TO STDOUT leaves the connection usable for the next query', async (t) => {
  const sql = postgres(await emptyDatabase(), { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  await sql`create table big as select g as id, repeat('x', 100) as t from generate_series(1, 20000) g`
  // the hang needs CopyDone to arrive in the chunk whose CopyData filled the stream: try often
  for (let round = 0; round < 15; round++) {
    const bytes = await withinBound(sql.begin(async (tx) => {
      let total = 0
      for (let i = 0; i < 3; i++) {
        for await (const chunk of await tx`copy big to stdout`.readable() as AsyncIterable<Buffer>) {
          total += chunk.length
          if (total % 3 === 0) await nextTurn()
        }
      }
      await tx`select 1`
      return total
    }), `round ${round}`)
    if (bytes === 0) t.fail('nothing was read')
  }
  t.pass('every round finished')
})
