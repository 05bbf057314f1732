import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import postgres from 'postgres'
import { fileDatabaseUrl } from '../helpers/app.js'
import { waitFor } from '../helpers/wait.js'

/**
 * postgres.js 3.4.9 as patched by patches/postgres+3.4.9.patch (applied by `npm install`'s
 * postinstall). Unpatched, the first two tests end this process with an uncaughtException
 * ("Cannot read properties of null (reading 'write')" from a setImmediate) and the others
 * fail their assertions: upstream issues #1066, #1154, #1199, #1208, #1215.
 */

// the ESM build is src/index.js; the package exports no other path
const driverDir = dirname(dirname(fileURLToPath(import.meta.resolve('postgres'))))

t.test('the patch is applied to both builds of the driver', async (t) => {
  for (const build of ['src', 'cjs/src']) {
    t.match(readFileSync(join(driverDir, build, 'connection.js'), 'utf8'), 'patched (upstream #1066, #1154, #1208', `${build}/connection.js`)
    t.match(readFileSync(join(driverDir, build, 'index.js'), 'utf8'), 'patched (upstream #1199, #1208)', `${build}/index.js`)
  }
})

async function clients(t: Test) {
  const url = await fileDatabaseUrl()
  const sql = postgres(url, { max: 2, onnotice: () => {} })
  const killer = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    await sql.end({ timeout: 1 })
    await killer.end({ timeout: 1 })
  })
  const kill = async (pid: number) => {
    await killer`select pg_terminate_backend(${pid})`
    await waitFor('the backend to be gone', async () => (await killer`select 1 from pg_stat_activity where pid = ${pid}`).length === 0)
  }
  const running = (pid: number, query: string) => waitFor(`${query} to run`, async () =>
    (await killer`select 1 from pg_stat_activity where pid = ${pid} and state = 'active' and query = ${query}`).length > 0)
  return { sql, kill, running }
}

const codeOf = (err: unknown) => (err as { code?: string }).code

t.test('a reserved connection whose backend died rejects its queries with CONNECTION_CLOSED, and the pool goes on', async (t) => {
  const { sql, kill } = await clients(t)
  const reserved = await sql.reserve()
  const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`
  await kill(row?.pid ?? 0)
  // both used to throw from a setImmediate and end the process; the second always did (#1208)
  await t.rejects(reserved`select 1`, { code: 'CONNECTION_CLOSED' })
  await t.rejects(reserved`select ${2}::int`, { code: 'CONNECTION_CLOSED' })
  // releasing it used to hand the pool a connection without a socket: every later query failed (#1199)
  reserved.release()
  const answers = await Promise.all([1, 2, 3, 4].map((n) => sql<{ n: number }[]>`select ${n}::int as n`))
  t.same(answers.map((r) => r[0]?.n), [1, 2, 3, 4])
})

t.test('a transaction whose backend dies mid-query rejects, its own rollback does not crash, and end() completes', async (t) => {
  const { sql, kill } = await clients(t)
  let pid: number | undefined
  const outcome = sql.begin(async (tx) => {
    const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`
    pid = row?.pid
    await tx`select pg_sleep(5)`
  }).then(() => undefined, (e: unknown) => e)
  await waitFor('the transaction to start', () => pid)
  await kill(pid ?? 0)
  t.equal(codeOf(await outcome), 'CONNECTION_CLOSED')
  const [row] = await sql<{ ok: number }[]>`select 1 as ok`
  t.equal(row?.ok, 1, 'the pool answers')
  const started = Date.now()
  await sql.end({ timeout: 10 })
  t.ok(Date.now() - started < 2000, 'end() does not wait for the dead query (it used to wait for its timeout)')
})

t.test('the first query after a busy backend was terminated gets its own answer, not the dead backend\'s error', async (t) => {
  const { kill, running } = await clients(t)
  const single = postgres(await fileDatabaseUrl(), { max: 1, onnotice: () => {} })
  t.teardown(() => single.end({ timeout: 1 }))
  const [row] = await single<{ pid: number }[]>`select pg_backend_pid() as pid`
  const busy = single`select pg_sleep(5)`.then(() => undefined, (e: unknown) => e)
  await running(row?.pid ?? 0, 'select pg_sleep(5)')
  await kill(row?.pid ?? 0)
  t.equal(codeOf(await busy), 'CONNECTION_CLOSED')
  // unpatched, this one failed with 57P01 ("terminating connection due to administrator command")
  const [after] = await single<{ ok: number }[]>`select 1 as ok`
  t.equal(after?.ok, 1)
})
