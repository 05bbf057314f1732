import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { ChatError, validationError } from '../../../../chat/errors.js'
import { listMessages } from '../../../../chat/messages.js'
import { getSiteSession } from '../../../../chat/sessions.js'
import { transcriptText } from '../../../../chat/transcript.js'
import { enqueueTranscript } from '../../../../outbox/enqueue.js'
import { ErrorBody, IdParams, NotJson, Ok, ok } from '../../../../http/schemas.js'
import { clientAddress } from '../../../../plugins/limits.js'

const security: { [name: string]: string[] }[] = [{ apiKey: [], sessionToken: [] }, { apiKey: [], apiSecret: [] }]

/**
 * A visitor cannot turn the server into a mail cannon: this many transcript emails an hour per
 * session and per address they go to. Per session alone was no bound: sessions are free to
 * make, each with any address and any text, so the address and the client IP count too.
 */
const TRANSCRIPTS_PER_HOUR = 5
const TRANSCRIPTS_PER_IP_PER_HOUR = 20
const HOUR_MS = 3_600_000

export default (async (app) => {
  const perConversation = app.limits.keyedBudget(TRANSCRIPTS_PER_HOUR, HOUR_MS)
  const perClient = app.limits.keyedBudget(TRANSCRIPTS_PER_IP_PER_HOUR, HOUR_MS)
  const budgets = (req: FastifyRequest, sessionId: string, email: string) => [
    { budget: perConversation, key: `transcript:${sessionId}`, per: 'for this conversation' },
    { budget: perConversation, key: `transcriptto:${email.toLowerCase()}`, per: 'to one address' },
    { budget: perClient, key: `transcriptip:${clientAddress(req)}`, per: 'from one network address' },
  ]

  app.post('/sessions/:id/transcript', {
    schema: {
      summary: 'Email the conversation to the session\'s email address',
      description: `202 when queued (the outbox sends it, with retries). 400 when the session has no email; 503 when the server sends no email (no SMTP_URL); 429 after ${TRANSCRIPTS_PER_HOUR} an hour per session or per address, or ${TRANSCRIPTS_PER_IP_PER_HOUR} from one client IP. Private notes are never part of it.`,
      tags: ['public'],
      security,
      params: IdParams,
      response: { 202: Ok(Type.Object({ queued: Type.Literal(true) })), '4xx': ErrorBody, 503: ErrorBody },
    },
    config: { rateLimit: app.limits.public },
    preParsing: app.requireSessionCredentials,
  }, async (req, reply) => {
    const session = await getSiteSession(app.db, req.site?.id ?? '', req.params.id)
    if (!session.email) throw validationError('The session has no email address: give one first (POST /sessions with email)', [{ field: 'email', message: 'the session has no email' }])
    if (!app.email.enabled) throw new ChatError(503, 'UNAVAILABLE', 'This server does not send email (SMTP_URL is not set)')
    for (const { budget, key, per } of budgets(req, session.id, session.email)) {
      const spent = await budget(key)
      if (spent) {
        reply.header('retry-after', spent.retryAfterSeconds)
        throw new ChatError(429, 'RATE_LIMITED', `At most ${spent.max} transcript emails an hour ${per}; retry in ${spent.retryAfterSeconds} seconds`, undefined, spent.retryAfterSeconds)
      }
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
    preParsing: app.requireSessionCredentials,
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
