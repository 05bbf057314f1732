import { Type } from '@sinclair/typebox'
import { sql } from 'drizzle-orm'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

export const HEALTH_TIMEOUT_MS = 1000
// a flood of health checks costs one probe per interval, shared by every caller meanwhile
const HEALTH_CACHE_MS = 500

const Health = Type.Object({
  success: Type.Boolean(),
  data: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]), db: Type.Union([Type.Literal('ok'), Type.Literal('down')]) }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
})

export default (async (app) => {
  async function probe(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    // The timer is due first after a stall of this process (a GC pause, a starved CPU): the
    // answer that arrived meanwhile is read (poll phase) before the verdict (check phase), so
    // a database that answered in time is not reported down.
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => setImmediate(() => resolve(false)), HEALTH_TIMEOUT_MS) })
    const answered = app.db.execute(sql`select 1`).then(() => true, () => false)
    const up = await Promise.race([answered, timeout])
    clearTimeout(timer)
    return up
  }
  let last: { up: Promise<boolean>; at: number } | undefined
  const databaseUp = () => {
    if (!last || Date.now() - last.at > HEALTH_CACHE_MS) last = { up: probe(), at: Date.now() }
    return last.up
  }

  app.get('/healthz', {
    schema: { summary: 'Liveness and database reachability (never rate limited; the probe is shared for half a second)', tags: ['operations'], response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    if (await databaseUp()) return { success: true, data: { status: 'ok' as const, db: 'ok' as const } }
    return reply.code(503).send({
      success: false,
      data: { status: 'degraded', db: 'down' },
      error: { code: 'UNAVAILABLE', message: 'The database does not answer' },
    })
  })
}) satisfies FastifyPluginAsyncTypebox
