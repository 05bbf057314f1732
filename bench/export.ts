/**
 * export: the server's peak RSS growth while streaming a site's NDJSON export of 100,000
 * messages (one session holding half of them, so one line is never held whole either),
 * against a bare node:http server streaming the same lines from a postgres.js cursor.
 * The peak is the kernel's VmHWM, reset just before the export (/proc/PID/clear_refs).
 * Both servers warm up alike, on an export of an empty range: a warm-up that streamed the
 * whole export (the baseline once ignored `from`) grows the heap to its working size before
 * the measurement, which then leaves that growth out.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'undici'
import { createUser } from '../src/chat/users.js'
import { fail, HIGH_LIMITS, runBench, startBenchDb, startServer, type Server } from './lib.js'

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000)
const TARGET_MB = 50
// long enough that holding the export would cost far more than the bound
const TEXT = 'x'.repeat(440)

const statusKb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN)

type Result = { growthMb: number; seconds: number; bytes: number; lines: number; messages: number }

async function measure(server: Server, url: string, headers: Record<string, string>): Promise<Result> {
  const pid = server.child.pid ?? 0
  // warm the route and the pool, not the heap: nothing matches (see the top of this file)
  await request(`${url}&from=2999-01-01`, { headers }).then((r) => r.body.text())
  const before = statusKb(pid, 'VmRSS')
  writeFileSync(`/proc/${pid}/clear_refs`, '5') // resets VmHWM (peak RSS) to the current RSS
  const started = performance.now()
  const res = await request(url, { headers })
  if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${await res.body.text()}`)
  let bytes = 0
  let lines = 0
  let messages = 0
  let carry = '' // a text may be split between chunks; the carry is shorter than one, so nothing counts twice
  for await (const chunk of res.body) {
    const text = (chunk as Buffer).toString('latin1')
    bytes += text.length
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
    const joined = carry + text
    messages += joined.split(TEXT).length - 1
    carry = joined.slice(-(TEXT.length - 1))
  }
  const seconds = (performance.now() - started) / 1000
  return { growthMb: (statusKb(pid, 'VmHWM') - before) / 1024, seconds, bytes, lines, messages }
}

await runBench('export', async () => {
  const db = await startBenchDb()
  try {
    const sql = db.handle.sql
    const [site] = await sql<{ id: string }[]>`insert into sites (name, api_key, api_secret_hash) values ('Big shop', 'pk_bench_export', 'x') returning id`
    const siteId = site?.id ?? ''
    const sessions = await sql<{ id: string; n: number }[]>`
      insert into chat_sessions (site_id, user_session_id, status, last_seq)
      select ${siteId}, 'visitor-' || g, 'closed', case when g = 0 then ${MESSAGES / 2}::int else ${MESSAGES / 200}::int end
      from generate_series(0, 100) g returning id, last_seq as n`
    for (const s of sessions) {
      await sql`insert into chat_messages (site_id, session_id, seq, sender, text, created_at)
        select ${siteId}, ${s.id}, g, case when g % 2 = 0 then 'agent' else 'visitor' end, ${TEXT} || g, now() + g * interval '1 millisecond'
        from generate_series(1, ${s.n}::int) g`
    }
    await createUser(db.handle.db, { email: 'root@example.com', name: 'Root', password: 'correct horse battery', role: 'admin' })

    const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
    const login = await request(`http://127.0.0.1:${app.port}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'root@example.com', password: 'correct horse battery' }),
    })
    const { token } = ((await login.body.json()) as { data: { token: string } }).data
    const ours = await measure(app, `http://127.0.0.1:${app.port}/api/admin/export?siteId=${siteId}`, { authorization: `Bearer ${token}` })
    await app.stop()
    const bare = await startServer('serve-export-baseline.ts', { BENCH_DB_URL: db.url })
    const baseline = await measure(bare, `http://127.0.0.1:${bare.port}/export?siteId=${siteId}`, {})
    await bare.stop()

    for (const [name, r] of [['server', ours], ['baseline', baseline]] as const) {
      if (r.lines !== sessions.length || r.messages < MESSAGES) fail(`${name}: ${r.lines} lines, ${r.messages} messages; wanted ${sessions.length} and ${MESSAGES}`)
    }
    return {
      title: `export: NDJSON of ${MESSAGES.toLocaleString('en')} messages in ${sessions.length} sessions (${(ours.bytes / 1e6).toFixed(1)} MB)`,
      rows: [
        { name: 'peak RSS growth', value: ours.growthMb, baseline: baseline.growthMb, baselineName: 'bare cursor server', unit: 'MB', target: { op: '≤', value: TARGET_MB, unit: 'MB' } },
        { name: 'time', value: ours.seconds, baseline: baseline.seconds, baselineName: 'bare cursor server', unit: 's' },
      ],
      note: 'Peak RSS is the kernel\'s VmHWM of the server process, reset just before the export, after both servers warmed up on an empty range; the baseline streams the same lines from a postgres.js cursor over node:http.',
    }
  } finally {
    await db.stop()
  }
})
