import { Type } from '@sinclair/typebox'
import { sql } from 'drizzle-orm'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const HEALTH_TIMEOUT_MS = 1500

const Health = Type.Object({
  success: Type.Boolean(),
  data: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]), db: Type.Union([Type.Literal('ok'), Type.Literal('down')]) }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
})

export default (async (app) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness and database reachability (never rate limited)', tags: ['operations'], response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS) })
    const probe = app.db.execute(sql`select 1`).then(() => true, () => false)
    const up = await Promise.race([probe, timeout])
    clearTimeout(timer)
    if (up) return { success: true, data: { status: 'ok' as const, db: 'ok' as const } }
    return reply.code(503).send({
      success: false,
      data: { status: 'degraded', db: 'down' },
      error: { code: 'UNAVAILABLE', message: 'The database does not answer' },
    })
  })
}) satisfies FastifyPluginAsyncTypebox
