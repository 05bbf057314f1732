import { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listAudit } from '../../../chat/audit.js'
import { eraseSessions, visitorSessionIds } from '../../../chat/erasure.js'
import { ChatError, validationError } from '../../../chat/errors.js'
import { exportSessionsNdjson } from '../../../chat/export.js'
import { getSite } from '../../../chat/sites.js'
import { DateTime, Email, ErrorBody, Id, NotJson, Nullable, Ok, ok } from '../../../http/schemas.js'
import { parseTimeParam, parseTimeRange } from '../../../http/time.js'

const ErasureBody = Type.Object({
  siteId: Id({ format: 'uuid' }),
  userSessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  email: Type.Optional(Email),
}, { additionalProperties: false })

const ExportQuery = Type.Object({
  siteId: Id({ format: 'uuid' }),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, inclusive, on createdAt' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO date or time, exclusive, on createdAt' })),
})

const AuditQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  before: Type.Optional(Type.String({ maxLength: 64, description: 'an entry id (the next page after it) or an ISO time' })),
  action: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$' })),
})

const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actor: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  action: Type.String(),
  target: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
})

/** one export stream per this many admins at once, per instance: each holds a database connection busy */
const MAX_CONCURRENT_EXPORTS = 2

/** Privacy for admins: erase a visitor, export a site, read the audit log. */
export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireAdmin }
  const tags = ['admin']
  const security = [{ bearer: [] }]
  let exporting = 0

  app.post('/erasures', {
    ...common,
    schema: {
      summary: 'Erase everything of a visitor on a site',
      description: 'Every session of the site with this userSessionId or this email (any case), or either when both are given, is erased as by DELETE /api/chat/sessions/:id. 200 { erasedSessions }. 404 for an unknown site.',
      tags, security, body: ErasureBody,
      response: { 200: Ok(Type.Object({ erasedSessions: Type.Integer() })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const { siteId, userSessionId, email } = req.body
    if (userSessionId === undefined && email === undefined) {
      throw validationError('Give userSessionId or email (or both)', [{ field: 'userSessionId', message: 'userSessionId or email is required' }])
    }
    const site = await getSite(app.db, siteId)
    const ids = await visitorSessionIds(app.db, site.id, { userSessionId, email })
    const actor = req.staff ? { id: req.staff.id, name: req.staff.name } : null
    // which of the two identified the visitor, never the value: the log must not keep what was erased
    const by = [userSessionId !== undefined && 'userSessionId', email !== undefined && 'email'].filter(Boolean)
    const erased = await eraseSessions(app.db, app.bus, ids, {
      steps: app.erasureSteps,
      onStepError: (err) => req.log.error({ err }, 'an erasure step failed after the commit'),
      audit: { actor, action: 'visitor.erased', target: site.id, siteId: site.id, details: { by } },
    })
    return ok({ erasedSessions: erased.length })
  })

  app.get('/export', {
    ...common,
    schema: {
      summary: "Export a site's sessions as NDJSON (streamed)",
      description: 'application/x-ndjson, one line per session (oldest first): { session, messages, notes }, as GET /api/chat/sessions/:id/export. Streamed in constant memory; recorded in the audit log (sessions.exported).',
      tags, security, querystring: ExportQuery,
      // a stream is sent as it is, never serialised
      response: { 200: NotJson('application/x-ndjson', 'NDJSON, one session a line', Type.Unsafe<Readable>({ type: 'string' })), '4xx': ErrorBody },
    },
  }, async (req, reply) => {
    const site = await getSite(app.db, req.query.siteId)
    const range = parseTimeRange(req.query)
    if (exporting >= MAX_CONCURRENT_EXPORTS) throw new ChatError(429, 'RATE_LIMITED', 'Other exports are running; retry in a minute', undefined, 60)
    exporting++
    await app.audit(req, { action: 'sessions.exported', target: site.id, siteId: site.id, details: { from: range.from ?? null, to: range.to ?? null } })
    const stream = Readable.from(exportSessionsNdjson(app.db, { siteId: site.id, ...range }), { objectMode: false })
    let released = false
    const release = () => {
      if (!released) exporting--
      released = true
    }
    stream.once('close', release)
    stream.once('error', (err) => req.log.error({ err }, 'export failed midway'))
    const day = new Date().toISOString().slice(0, 10)
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="chat-export-${day}.ndjson"`)
      .header('cache-control', 'no-store')
      .send(stream)
  })

  app.get('/audit', {
    ...common,
    schema: {
      summary: 'The audit log, newest first',
      description: 'Logins, user and site changes, secret rotations, webhooks, assignments, erasures, exports and retention: who (null for the server itself), when, what. Page with before=<id of the last entry>.',
      tags, security, querystring: AuditQuery,
      response: { 200: Ok(Type.Object({ entries: Type.Array(AuditEntry) })), '4xx': ErrorBody },
    },
  }, async (req) => {
    const { before, limit, action } = req.query
    const beforeId = before !== undefined && /^\d{1,15}$/.test(before) ? Number(before) : undefined
    const beforeAt = before !== undefined && beforeId === undefined ? parseTimeParam(before, 'before') : undefined
    return ok({ entries: await listAudit(app.db, { limit: limit ?? 50, beforeId, beforeAt, action }) })
  })
}) satisfies FastifyPluginAsyncTypebox
