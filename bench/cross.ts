/**
 * cross: a reply stored on instance A reaching a widget socket on instance B, against the
 * same with the socket on A, for each bus: Postgres NOTIFY and, when nats-server is
 * installed, NATS. Both figures come from one run: half the sessions are watched on A and
 * half on B, and every POST (to A) goes to a random one of them, so both see the same load,
 * the same servers at the same moment, and are timed from the same point (before the POST).
 * Measuring starts once every socket has its backlog and status, after a warm-up.
 */
import { sql } from 'drizzle-orm'
import { commandPath } from '../scripts/system-requirements.js'
import { startNatsServer, type NatsServer } from '../scripts/nats-server.js'
import { createBenchSite, HIGH_LIMITS, percentile, runBench, startBenchDb, startServer, type Row } from './lib.js'
import { agentPost, makeSessions, pushLatencies, staffToken, widgetSocketUrl } from './sockets.js'

/** sockets per instance */
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 500)
const RATE_PER_S = 50
// 60 s: 1,500 samples a side, so a p99 rests on 15 of them (20 s gave 5, and the ratio swung 1.00–1.49× between runs)
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 60)
// fresh server processes (JIT, prepared statements) and fresh client connections, not counted
const WARMUP_S = 3
// BENCH_BUS=postgres or nats: only that bus (while iterating)
const ONLY_BUS = process.env.BENCH_BUS

await runBench('cross', async () => {
  const db = await startBenchDb()
  let nats: NatsServer | undefined
  try {
    const site = await createBenchSite(db)
    const sessions = await makeSessions(db.handle.db, site.id, 2 * SOCKETS)
    await db.handle.db.execute(sql`analyze`)
    nats = commandPath('nats-server') ? await startNatsServer() : undefined
    const all: { name: string; env: Record<string, string>; target: number }[] = [
      { name: 'Postgres bus', env: { REALTIME_BUS: 'postgres' }, target: 1.5 },
      ...(nats ? [{ name: 'NATS bus', env: { REALTIME_BUS: 'nats', NATS_URL: nats.url }, target: 1.2 }] : []),
    ]
    const buses = all.filter((bus) => ONLY_BUS === undefined || bus.env.REALTIME_BUS === ONLY_BUS)
    const rows: Row[] = []
    for (const bus of buses) {
      const a = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const b = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const jwt = await staffToken(a.port, db.handle.db)
      // even sessions are watched on A (same instance), odd ones on B (cross)
      const onB = (i: number) => i % 2 === 1
      const same: number[] = []
      const cross: number[] = []
      await pushLatencies(2 * SOCKETS, RATE_PER_S, DURATION_S, {
        socketUrl: (i) => widgetSocketUrl(onB(i) ? b.port : a.port, site.apiKey, sessions[i]),
        post: (i, text) => agentPost(a.port, jwt, sessions[i]?.id, text),
        warmupS: WARMUP_S,
        // the server sends each socket its session status after its backlog
        ready: (frame) => frame.type === 'session',
        record: (i, ms) => (onB(i) ? cross : same).push(ms),
      })
      await a.stop()
      await b.stop()
      same.sort((x, y) => x - y)
      cross.sort((x, y) => x - y)
      rows.push({ name: `${bus.name}, p50`, value: percentile(cross, 50), baseline: percentile(same, 50), baselineName: 'socket on A', unit: 'ms' })
      rows.push({ name: `${bus.name}, p99`, value: percentile(cross, 99), baseline: percentile(same, 99), baselineName: 'socket on A', unit: 'ms', target: { op: '≤', ratio: bus.target } })
    }
    return {
      title: `cross: store on A, socket on B (baseline: socket on A, same run), ${SOCKETS} sockets on each, ${RATE_PER_S} msg/s for ${DURATION_S} s after ${WARMUP_S} s`,
      rows,
      note: nats ? '' : 'nats-server not installed: no NATS rows.',
    }
  } finally {
    await nats?.kill()
    await db.stop()
  }
})
