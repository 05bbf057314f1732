import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ChatError, validationError } from '../../../../chat/errors.js'
import { listMessages } from '../../../../chat/messages.js'
import { getSiteSession } from '../../../../chat/sessions.js'
import { transcriptText } from '../../../../chat/transcript.js'
import { enqueueTranscript } from '../../../../outbox/enqueue.js'
import { ErrorBody, IdParams, NotJson, Ok, ok } from '../../../../http/schemas.js'

const security: { [name: string]: string[] }[] = [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }]

/** a visitor cannot turn the server into a mail cannon: this many transcript emails per session and hour */
const TRANSCRIPTS_PER_HOUR = 5

export default (async (app) => {
  const checkTranscripts = app.createRateLimit({ max: TRANSCRIPTS_PER_HOUR, timeWindow: 3_600_000, keyGenerator: (req) => `transcript:${(req.params as { id?: string }).id ?? ''}` })

  app.post('/sessions/:id/transcript', {
    schema: {
      summary: 'Email the conversation to the session\'s email address',
      description: `202 when queued (the outbox sends it, with retries). 400 when the session has no email; 503 when the server sends no email (no SMTP_URL); 429 after ${TRANSCRIPTS_PER_HOUR} per session and hour. Private notes are never part of it.`,
      tags: ['public'],
      security,
      params: IdParams,
      response: { 202: Ok(Type.Object({ queued: Type.Literal(true) })), '4xx': ErrorBody, 503: ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preHandler: app.requireSessionCredentials,
  }, async (req, reply) => {
    const session = await getSiteSession(app.db, req.site?.id ?? '', req.params.id)
    if (!session.email) throw validationError('The session has no email address: give one first (POST /sessions with email)', [{ field: 'email', message: 'the session has no email' }])
    if (!app.email.enabled) throw new ChatError(503, 'UNAVAILABLE', 'This server does not send email (SMTP_URL is not set)')
    const limit = await checkTranscripts(req)
    if (!limit.isAllowed && limit.isExceeded) {
      reply.header('retry-after', limit.ttlInSeconds)
      throw new ChatError(429, 'RATE_LIMITED', `At most ${TRANSCRIPTS_PER_HOUR} transcript emails per hour; retry in ${limit.ttlInSeconds} seconds`, undefined, limit.ttlInSeconds)
    }
    await enqueueTranscript(app.db, session)
    return reply.code(202).send(ok({ queued: true as const }))
  })

  app.get('/sessions/:id/transcript', {
    schema: {
      summary: 'The conversation as plain text (download)',
      description: 'text/plain; charset=utf-8, every message oldest first with its UTC time; never private notes.',
      tags: ['public'],
      security,
      params: IdParams,
      response: { 200: NotJson('text/plain', 'the transcript', Type.String()), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preHandler: app.requireSessionCredentials,
  }, async (req, reply) => {
    const site = req.site
    if (!site) throw new Error('requireSessionCredentials did not run')
    const session = await getSiteSession(app.db, site.id, req.params.id)
    const text = transcriptText(site, session, await listMessages(app.db, session.id))
    return reply
      .type('text/plain; charset=utf-8')
      .header('content-disposition', `attachment; filename="chat-${session.createdAt.toISOString().slice(0, 10)}.txt"`)
      .header('cache-control', 'no-store')
      .send(text)
  })
}) satisfies FastifyPluginAsyncTypebox
