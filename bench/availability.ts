/**
 * availability: the server work of GET /api/public/chat/availability (key check, rate limit,
 * the cached answer, the envelope, serialisation): Fastify's own elapsed time from the
 * request's arrival to the response sent (reply.elapsedTime), over requests made through
 * app.inject one at a time, against a bare Fastify route answering the same JSON from a Map
 * (same run). Target: at most 1 ms per request on average; the result goes to
 * bench/results/availability.json like every bench's (runBench).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createUser } from '../src/chat/users.js'
import { BENCH_JWT_SECRET, createBenchSite, fail, HIGH_LIMITS, percentile, runBench, startBenchDb } from './lib.js'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000)
const WARM_UP = 2_000
const TARGET_MS = 1

/** Call before the app is ready: collects each response's server time. */
function timed(app: FastifyInstance): number[] {
  const took: number[] = []
  app.addHook('onResponse', async (_req, reply) => void took.push(reply.elapsedTime))
  return took
}

async function time(app: FastifyInstance, took: number[], url: string, headers: Record<string, string>) {
  for (let i = 0; i < WARM_UP + REQUESTS; i++) {
    const res = await app.inject({ method: 'GET', url, headers })
    if (res.statusCode !== 200) fail(`${url} answered ${res.statusCode}: ${res.body}`)
  }
  took.splice(0, WARM_UP)
  took.sort((a, b) => a - b)
  return { mean: took.reduce((a, b) => a + b, 0) / took.length, p99: percentile(took, 99) }
}

await runBench('availability', async () => {
  const db = await startBenchDb()
  try {
    const site = await createBenchSite(db)
    await createUser(db.handle.db, { email: 'agent@bench.example', name: 'Agent', password: 'correct horse battery', role: 'agent', siteIds: [site.id] })
    const config = loadConfig({ ...process.env, ...HIGH_LIMITS, LOG_LEVEL: 'warn', JWT_SECRET: BENCH_JWT_SECRET })
    const app = await buildApp({ config, databaseUrl: db.url })
    const ours = await time(app, timed(app), '/api/public/chat/availability', { 'x-api-key': site.apiKey })
    await app.close()

    // the barest correct answer: the key looked up in a Map, the same envelope
    const answers = new Map([[site.apiKey, { online: false, agentsOnline: 0 }]])
    const bare = Fastify()
    const bareTook = timed(bare)
    bare.get('/availability', async (req, reply) => {
      const data = answers.get(String(req.headers['x-api-key']))
      return data ? { success: true, data } : reply.code(401).send({ success: false })
    })
    const baseline = await time(bare, bareTook, '/availability', { 'x-api-key': site.apiKey })
    await bare.close()

    const bareName = 'bare route, Map'
    return {
      title: `availability: ${REQUESTS} requests through app.inject, one at a time; Fastify's reply.elapsedTime`,
      rows: [
        { name: 'server work per request, mean', value: ours.mean, baseline: baseline.mean, baselineName: bareName, unit: 'ms', target: { op: '≤', value: TARGET_MS, unit: 'ms' } },
        { name: 'server work per request, p99', value: ours.p99, baseline: baseline.p99, baselineName: bareName, unit: 'ms' },
      ],
    }
  } finally {
    await db.stop()
  }
})
