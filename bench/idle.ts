/**
 * idle: server RSS (and V8 heap) per idle widget socket at 10,000 and 50,000 sockets, after
 * full GCs in the server (bench/memory-after-gc.ts), against a bare `ws` server holding as many (same run, same client).
 * The client opens them from several loopback source addresses (127.0.0.1–8), as one
 * address's ephemeral ports (~28k) cannot reach 50k. A step needs that many open files in
 * the server and in this process: when the hard limit (`ulimit -Hn`) is lower, the step is
 * reported as not measurable here rather than measured wrong. Both servers first open and close
 * the same few sockets, so one-time costs (code compiled, caches made) are not counted per socket.
 */
import { readFileSync } from 'node:fs'
import { createBenchSite, HIGH_LIMITS, runBench, sleep, startBenchDb, startServer, type Row } from './lib.js'
import { closeSockets, makeSessions, openSockets, serverMemory, widgetSocketUrl, type Memory } from './sockets.js'

const STEPS = (process.env.BENCH_SOCKETS ?? '10000,50000').split(',').map(Number)
// the server's own files: Postgres pool, listener, modules, the log
const SPARE_FILES = 200

/** The hard limit on open files of a process (this one unless a pid is given). */
function openFilesLimit(pid: number | 'self' = 'self'): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  const hard = line?.trim().split(/\s+/)[4]
  return hard === 'unlimited' || hard === undefined ? Infinity : Number(hard)
}

// opened and closed on both servers before the first reading, so that what a server does once
// (compiling its upgrade path, creating its caches) is not counted as a cost of each socket
const WARMUP_SOCKETS = 200

async function perSocket(port: number, n: number, url: (i: number) => string): Promise<Memory> {
  await closeSockets(await openSockets(Array.from({ length: Math.min(WARMUP_SOCKETS, n) }, (_, i) => url(i)), () => {}))
  const before = await serverMemory(port)
  const sockets = await openSockets(Array.from({ length: n }, (_, i) => url(i)), () => {})
  await sleep(1000)
  const after = await serverMemory(port)
  await closeSockets(sockets)
  return { rss: (after.rss - before.rss) / n, heapUsed: (after.heapUsed - before.heapUsed) / n }
}

await runBench('idle', async () => {
  const db = await startBenchDb()
  try {
    const site = await createBenchSite(db)
    const sessions = await makeSessions(db.handle.db, site.id, Math.max(...STEPS))
    const rows: Row[] = []
    const notMeasured: string[] = []
    for (const n of STEPS) {
      const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
      const limit = Math.min(openFilesLimit(app.child.pid), openFilesLimit())
      if (n + SPARE_FILES > limit) {
        await app.stop()
        notMeasured.push(`${n} sockets: not measurable on this machine (open-file hard limit ${limit}, and no privilege to raise it).`)
        rows.push({ name: `${n} sockets, RSS per socket`, value: NaN, unit: 'KiB', target: { op: '≤', ratio: 1.5 } })
        continue
      }
      const ours = await perSocket(app.port, n, (i) => widgetSocketUrl(app.port, site.apiKey, sessions[i]))
      await app.stop()
      const bare = await startServer('serve-ws-baseline.ts', {})
      const baseline = await perSocket(bare.port, n, (i) => `ws://127.0.0.1:${bare.port}/ws/${sessions[i]?.id}`)
      await bare.stop()
      rows.push({ name: `${n} sockets, RSS per socket`, value: ours.rss / 1024, baseline: baseline.rss / 1024, baselineName: 'bare ws', unit: 'KiB', target: { op: '≤', ratio: 1.5 } })
      rows.push({ name: `${n} sockets, V8 heap per socket`, value: ours.heapUsed / 1024, baseline: baseline.heapUsed / 1024, baselineName: 'bare ws', unit: 'KiB' })
    }
    return {
      title: 'idle: memory per idle widget socket, after full GCs in the server (same reading on both servers)',
      rows,
      note: [...notMeasured, 'Both servers are read the same way: full GCs until RSS stops falling (V8 returns freed pages on background threads after a GC). Without a forced GC an idle server also holds its upgrades\' garbage until its next major GC; the heap figure is what stays live.'].join(' '),
    }
  } finally {
    await db.stop()
  }
})
