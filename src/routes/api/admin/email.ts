import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorBody, Nullable, Ok, ok } from '../../../http/schemas.js'

const EmailView = Type.Object({
  enabled: Type.Boolean({ description: 'false without SMTP_URL: no offline replies, no transcripts' }),
  /** host:port of SMTP_URL; never its user or password */
  server: Nullable(Type.String()),
  from: Type.String(),
  awayAfterSeconds: Type.Number(),
  batchSeconds: Type.Number(),
  linkTtlHours: Type.Number(),
})

/** The email settings as configured on the server (read only: they are environment variables). */
export default (async (app) => {
  app.get('/email', {
    schema: {
      summary: 'Email settings: whether email is on, the SMTP server, sender and delays',
      description: 'SMTP_URL (host and port only), EMAIL_FROM, VISITOR_AWAY_MS, EMAIL_BATCH_MS and EMAIL_LINK_TTL_HOURS as configured.',
      tags: ['admin'],
      security: [{ bearer: [] }],
      response: { 200: Ok(Type.Object({ email: EmailView })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireAdmin,
  }, async () => {
    const { smtpUrl, from, visitorAwayMs, batchMs, linkTtlMs } = app.config.email
    return ok({
      email: {
        enabled: smtpUrl !== undefined,
        server: smtpUrl === undefined ? null : new URL(smtpUrl).host,
        from,
        awayAfterSeconds: visitorAwayMs / 1000,
        batchSeconds: batchMs / 1000,
        linkTtlHours: linkTtlMs / 3_600_000,
      },
    })
  })
}) satisfies FastifyPluginAsyncTypebox
