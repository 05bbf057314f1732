import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { sql } from 'drizzle-orm'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { notFound } from '../chat/errors.js'
import { sameHash } from '../chat/secrets.js'
import { undeliveredCountSql } from '../outbox/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Prometheus registry of this app; other plugins add their own metrics to it */
    metrics: Registry
  }
}

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/**
 * Prometheus metrics at /metrics, only with `Authorization: Bearer <METRICS_TOKEN>`; without
 * METRICS_TOKEN the route answers 404, so nothing is exposed on the public port by default.
 */
export default fp(async (app) => {
  const registry = new Registry()
  app.decorate('metrics', registry)
  const token = app.config.metricsToken

  // Without METRICS_TOKEN nobody can read them, so what costs every request is not measured:
  // the latency histogram (an observe with three labels per request) and the default metrics
  // (a GC observer and an event-loop delay monitor). The gauges below are read at scrape time only.
  if (token !== undefined) {
    collectDefaultMetrics({ register: registry })
    const latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    })
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched'
      latency.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
      done()
    })
  }

  // Read from Postgres at scrape time: cluster-wide figures, the same whichever instance is asked.
  new Gauge({
    name: 'chat_messages_stored_total',
    help: 'Messages inserted since the statistics were last reset (all instances)',
    registers: [registry],
    async collect() {
      const [row] = await app.db.execute<{ n: string | null }>(sql`select n_tup_ins::text as n from pg_stat_user_tables where relname = 'chat_messages'`)
      this.set(Number(row?.n ?? 0))
    },
  })
  new Gauge({
    name: 'outbox_rows',
    help: 'Outbox rows waiting to be delivered (pending) or given up on (failed)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await app.db.execute<{ status: string; n: number }>(undeliveredCountSql)
      this.reset()
      for (const r of rows) this.set({ status: r.status }, r.n)
    },
  })

  const authorised = (req: FastifyRequest) => {
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    return token !== undefined && given !== undefined && sameHash(given, token)
  }
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!authorised(req)) throw notFound('Route')
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}, { name: 'metrics', dependencies: ['db'] })
