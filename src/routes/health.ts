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

const DEADLINE_TICK_MS = 50

/**
 * Expires once this process has been running for `ms`. A stall of the process (a GC pause, a
 * starved CPU) counts as two ticks at most: while stalled it could not write the query or read
 * the answer, so a wall-clock timer would blame the database for the process's own pause. The
 * verdict waits a further event-loop turn, so an answer that is already waiting is read first.
 */
function awakeDeadline(ms: number): { expired: Promise<false>; cancel: () => void } {
  let ticker: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => {
    let awake = 0
    let last = Date.now()
    ticker = setInterval(() => {
      const now = Date.now()
      awake += Math.min(now - last, 2 * DEADLINE_TICK_MS)
      last = now
      if (awake >= ms) { clearInterval(ticker); setImmediate(() => resolve(false)) }
    }, DEADLINE_TICK_MS)
  })
  return { expired, cancel: () => clearInterval(ticker) }
}

export default (async (app) => {
  async function probe(): Promise<boolean> {
    const deadline = awakeDeadline(HEALTH_TIMEOUT_MS)
    const answered = app.db.execute(sql`select 1`).then(() => true, () => false)
    const up = await Promise.race([answered, deadline.expired])
    deadline.cancel()
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
