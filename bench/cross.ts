/**
 * cross: a reply stored on instance A reaching a widget socket on instance B, against the
 * same with the socket on A (same run, same database), for each bus: Postgres NOTIFY and,
 * when nats-server is installed, NATS.
 */
import { commandPath } from '../scripts/system-requirements.js'
import { startNatsServer, type NatsServer } from '../scripts/nats-server.js'
import { createBenchSite, HIGH_LIMITS, percentile, runBench, startBenchDb, startServer, type Row } from './lib.js'
import { agentPost, makeSessions, pushLatencies, staffToken, widgetSocketUrl } from './sockets.js'

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 500)
const RATE_PER_S = 50
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)

await runBench('cross', async () => {
  const db = await startBenchDb()
  let nats: NatsServer | undefined
  try {
    const site = await createBenchSite(db)
    const sessions = await makeSessions(db.handle.db, site.id, SOCKETS)
    nats = commandPath('nats-server') ? await startNatsServer() : undefined
    const buses: { name: string; env: Record<string, string>; target: number }[] = [
      { name: 'Postgres bus', env: { REALTIME_BUS: 'postgres' }, target: 1.5 },
      ...(nats ? [{ name: 'NATS bus', env: { REALTIME_BUS: 'nats', NATS_URL: nats.url }, target: 1.2 }] : []),
    ]
    const rows: Row[] = []
    for (const bus of buses) {
      const a = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const b = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS, ...bus.env })
      const jwt = await staffToken(a.port, db.handle.db)
      const post = (i: number, text: string) => agentPost(a.port, jwt, sessions[i]?.id, text)
      const same = await pushLatencies(SOCKETS, RATE_PER_S, DURATION_S, { socketUrl: (i) => widgetSocketUrl(a.port, site.apiKey, sessions[i]), post })
      const cross = await pushLatencies(SOCKETS, RATE_PER_S, DURATION_S, { socketUrl: (i) => widgetSocketUrl(b.port, site.apiKey, sessions[i]), post })
      await a.stop()
      await b.stop()
      rows.push({ name: `${bus.name}, p50`, value: percentile(cross, 50), baseline: percentile(same, 50), baselineName: 'socket on A', unit: 'ms' })
      rows.push({ name: `${bus.name}, p99`, value: percentile(cross, 99), baseline: percentile(same, 99), baselineName: 'socket on A', unit: 'ms', target: { op: '≤', ratio: bus.target } })
    }
    return {
      title: `cross: store on A, socket on B (baseline: socket on A), ${SOCKETS} sockets, ${RATE_PER_S} msg/s for ${DURATION_S} s`,
      rows,
      note: nats ? '' : 'nats-server not installed: no NATS rows.',
    }
  } finally {
    await nats?.kill()
    await db.stop()
  }
})
