import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { and, eq, sql } from 'drizzle-orm'
import { notFound, unauthorized } from '../../../../chat/errors.js'
import { isUuid } from '../../../../chat/ids.js'
import { visitorLocale, visitorText } from '../../../../chat/visitor-texts.js'
import { chatSessions } from '../../../../db/schema.js'
import { IdParams } from '../../../../http/schemas.js'

const Query = Type.Object({ token: Type.String({ maxLength: 128 }) })

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A page saying one sentence (also its title, so that the tab and a screen reader name it), then `rest` (markup). */
const page = (lang: string, sentence: string, rest = '') =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(sentence)}</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:560px;margin:48px auto;padding:0 16px"><p>${escapeHtml(sentence)}</p>${rest}</body></html>`

/**
 * The List-Unsubscribe target of visitor emails (no headers possible: the link's token proves
 * it). GET only asks (mail scanners follow links); POST, the RFC 8058 one-click request or the
 * page's button, stops offline emails about this conversation.
 */
export default (async (app) => {
  // one-click unsubscribe posts `List-Unsubscribe=One-Click` form-encoded; nothing else is read
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, _body, done) => done(null, {}))

  const sessionFor = async (id: string, token: string) => {
    if (!isUuid(id)) throw notFound('Session')
    if (!app.email.unsubscribeTokenValid(id, token)) throw unauthorized('Wrong unsubscribe token')
    const [session] = await app.db.select({ locale: chatSessions.locale }).from(chatSessions).where(eq(chatSessions.id, id))
    if (!session) throw notFound('Session')
    return visitorLocale(session.locale)
  }
  const common = { config: { rateLimit: app.limits.public }, schema: { hide: true, params: IdParams, querystring: Query } }

  app.get('/sessions/:id/unsubscribe', common, async (req, reply) => {
    const locale = await sessionFor(req.params.id, req.query.token)
    const action = `?token=${encodeURIComponent(req.query.token)}`
    return reply.type('text/html; charset=utf-8').send(page(locale, visitorText(locale, 'unsubscribeAsk'),
      `<form method="post" action="${escapeHtml(action)}"><button type="submit">${escapeHtml(visitorText(locale, 'unsubscribe'))}</button></form>`))
  })

  app.post('/sessions/:id/unsubscribe', common, async (req, reply) => {
    const locale = await sessionFor(req.params.id, req.query.token)
    await app.db.update(chatSessions).set({ emailOptOut: true, updatedAt: sql`now()` }).where(and(eq(chatSessions.id, req.params.id)))
    return reply.type('text/html; charset=utf-8').send(page(locale, visitorText(locale, 'unsubscribed')))
  })
}) satisfies FastifyPluginAsyncTypebox
