/**
 * idle: server RSS per idle widget socket at 10,000 sockets (after a full GC in the
 * server), against a bare `ws` server holding the same number of sockets.
 */
import { createSite } from '../src/chat/sites.js'
import { HIGH_LIMITS, printTable, sleep, startBenchDb, startServer, benchSecretBox } from './lib.js'
import { closeSockets, makeSessions, openSockets, serverMemory, type Memory } from './sockets.js'

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000)

async function perSocketBytes(port: number, url: (i: number) => string): Promise<Memory> {
  const before = await serverMemory(port)
  const sockets = await openSockets(Array.from({ length: SOCKETS }, (_, i) => url(i)), () => {})
  await sleep(1000)
  const after = await serverMemory(port)
  await closeSockets(sockets)
  return { rss: (after.rss - before.rss) / SOCKETS, heapUsed: (after.heapUsed - before.heapUsed) / SOCKETS }
}

const db = await startBenchDb()
try {
  const { site } = await createSite(db.handle.db, benchSecretBox, { name: 'bench', origins: ['*'] })
  const sessions = await makeSessions(db.handle.db, site.id, SOCKETS)
  const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
  const ours = await perSocketBytes(app.port, (i) => `ws://127.0.0.1:${app.port}/api/public/chat/sessions/${sessions[i]?.id}/ws?apiKey=${site.apiKey}&token=${sessions[i]?.token}`)
  await app.stop()
  const bare = await startServer('serve-ws-baseline.ts', {})
  const baseline = await perSocketBytes(bare.port, (i) => `ws://127.0.0.1:${bare.port}/ws/${sessions[i]?.id}`)
  await bare.stop()
  printTable(`idle: RSS per idle socket at ${SOCKETS} sockets, after GC`, [
    { name: 'RSS per socket', value: ours.rss / 1024, baseline: baseline.rss / 1024, unit: 'KiB', target: '≤ 1.5×' },
    { name: 'V8 heap per socket', value: ours.heapUsed / 1024, baseline: baseline.heapUsed / 1024, unit: 'KiB' },
  ], 'RSS also holds what the 10,000 upgrades allocated and the allocator has not returned yet; the heap figure is what stays live.')
} finally {
  await db.stop()
}
