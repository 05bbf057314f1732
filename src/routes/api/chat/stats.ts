import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getStats } from '../../../chat/stats.js'
import { ErrorBody, Nullable, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'
import { parseTimeRange } from '../../../http/time.js'
import { visibleSites } from '../../../chat/visibility.js'

const StatsBody = Type.Object({
  totalSessions: Type.Integer(),
  openSessions: Type.Integer(),
  closedSessions: Type.Integer(),
  sessionsToday: Type.Integer(),
  totalMessages: Type.Integer(),
  visitorMessages: Type.Integer(),
  agentMessages: Type.Integer(),
  botMessages: Type.Integer(),
  unansweredSessions: Type.Integer(),
  avgFirstResponseSeconds: Nullable(Type.Number()),
  medianFirstResponseSeconds: Nullable(Type.Number()),
  sessionsPerDay: Type.Array(Type.Object({ date: Type.String(), count: Type.Integer() })),
  csatAverage: Nullable(Type.Number({ description: 'mean rating (1–5) of the ratings given in the range; null without any' })),
  csatCount: Type.Integer(),
  csatDistribution: Type.Object({ 1: Type.Integer(), 2: Type.Integer(), 3: Type.Integer(), 4: Type.Integer(), 5: Type.Integer() }),
})

export default (async (app) => {
  app.get('/stats', {
    schema: {
      summary: 'Totals and first-response figures',
      description: 'Over the sites the caller sees. Sessions created and messages sent in [from, to) (UTC). sessionsToday counts the current UTC day. sessionsPerDay covers the range (default: the last 30 days), zeros included. CSAT figures count the ratings given in the range.',
      tags: ['chat'],
      security: [{ bearer: [] }],
      querystring: Type.Object({ from: Type.Optional(Type.String({ maxLength: 64 })), to: Type.Optional(Type.String({ maxLength: 64 })) }),
      response: { 200: Ok(StatsBody), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    return ok(await getStats(app.db, parseTimeRange(req.query), visibleSites(staffOf(req))))
  })
}) satisfies FastifyPluginAsyncTypebox
