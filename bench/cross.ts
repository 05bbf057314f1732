/**
 * cross: a reply stored on instance A reaching a widget socket on instance B, against the
 * same reply reaching a socket on A, for each bus: Postgres NOTIFY and, when nats-server is
 * installed, NATS. Paired: every session is watched by one socket on A and one on B (a
 * visitor may hold several sockets on one session; each instance sends its own, as for two
 * tabs), and every POST (to A) is timed on both, from the same point (before the POST). So
 * each event gives one same-instance and one cross-instance sample at the same moment, and a
 * stall of the machine, a server or the load generator lands on both sides of the ratio
 * instead of on a random one of them; the per-event difference (cross − same) is the hop's
 * own cost. Measuring starts once every socket has its backlog and status, after a warm-up.
 */
import { sql } from 'drizzle-orm'
import { commandPath } from '../scripts/system-requirements.js'
import { startNatsServer, type NatsServer } from '../scripts/nats-server.js'
import { createBenchSite, HIGH_LIMITS, percentile, runBench, startBenchDb, startServer, type Row } from './lib.js'
import { agentPost, makeSessions, pushLatencies, staffToken, widgetSocketUrl } from './sockets.js'

/** sockets per instance */
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 500)
const RATE_PER_S = 50
// 60 s: 3,000 events, each timed on both sides, so a p99 rests on 30 of them
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
    const sessions = await makeSessions(db.handle.db, site.id, SOCKETS)
    await db.handle.db.execute(sql`analyze`)
    nats = commandPath('nats-server') ? await startNatsServer() : undefined
    const all: { name: string; env: Record<string, string>; target: number }[] = [
      { name: 'Postgres bus', env: { REALTIME_BUS: 'postgres' }, target: 1.5 },
      ...(nats ? [{ name: 'NATS bus', env: { REALTIME_BUS: 'nats', NATS_URL: nats.url }, target: 1.2 }] : []),
    ]
    const buses = all.filter((bus) => ONLY_BUS === undefined || bus.env.REALTIME_BUS === ONLY_BUS)
    const rows: Row[] = []
    const notes: string[] = []
    for (const bus of buses) {
      const a = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const b = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const jwt = await staffToken(a.port, db.handle.db)
      // socket 2s watches session s on A (same instance), socket 2s + 1 the same session on B (cross)
      const onB = (socket: number) => socket % 2 === 1
      // each side's latency by the post's number (a missing frame fails the run in pushLatencies)
      const sameOf = new Map<number, number>()
      const crossOf = new Map<number, number>()
      const run = await pushLatencies(2 * SOCKETS, RATE_PER_S, DURATION_S, {
        socketUrl: (socket) => widgetSocketUrl(onB(socket) ? b.port : a.port, site.apiKey, sessions[socket >> 1]),
        targets: SOCKETS,
        post: (session, text) => agentPost(a.port, jwt, sessions[session]?.id, text),
        framesPerPost: 2,
        warmupS: WARMUP_S,
        // the server sends each socket its session status after its backlog
        ready: (frame) => frame.type === 'session',
        record: (socket, ms, _postedMs, event) => void (onB(socket) ? crossOf : sameOf).set(event, ms),
      })
      await a.stop()
      await b.stop()
      const ascending = (values: Iterable<number>) => [...values].sort((x, y) => x - y)
      const differences = ascending([...crossOf].map(([event, ms]) => ms - (sameOf.get(event) ?? NaN)))
      const same = ascending(sameOf.values())
      const cross = ascending(crossOf.values())
      rows.push({ name: `${bus.name}, p50`, value: percentile(cross, 50), baseline: percentile(same, 50), baselineName: 'socket on A', unit: 'ms' })
      rows.push({ name: `${bus.name}, p99`, value: percentile(cross, 99), baseline: percentile(same, 99), baselineName: 'socket on A', unit: 'ms', target: { op: '≤', ratio: bus.target } })
      rows.push({ name: `${bus.name}, cross − same of each event, p50`, value: percentile(differences, 50), unit: 'ms' })
      rows.push({ name: `${bus.name}, cross − same of each event, p99`, value: percentile(differences, 99), unit: 'ms' })
      notes.push(`${bus.name}: longest stall of the load generator's event loop while measuring ${run.generatorStallMs.toFixed(1)} ms (a stall delays both frames of the events it holds up).`)
    }
    return {
      title: `cross: store on A, socket on B (baseline: a socket on A watching the same session, same events), ${SOCKETS} sockets on each, ${RATE_PER_S} msg/s for ${DURATION_S} s after ${WARMUP_S} s`,
      rows,
      note: [
        'Paired: every session has one socket on A and one on B, and every reply is timed on both, so the two figures come from the same events at the same moments; the "cross − same" rows are the hop\'s own cost, per event.',
        ...notes,
        ...(nats ? [] : ['nats-server not installed: no NATS rows.']),
      ].join('\n\n'),
    }
  } finally {
    await nats?.kill()
    await db.stop()
  }
})
