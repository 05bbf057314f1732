import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isTimeZone } from '../../../chat/bot.js'
import { notFound, validationError } from '../../../chat/errors.js'
import { isUuid } from '../../../chat/ids.js'
import { createSite, getSite, listSites, rotateSiteCredentials, siteView, updateSite, type SiteInput } from '../../../chat/sites.js'
import { ORIGIN_PATTERN } from '../../../chat/origin-pattern.js'
import { DateTime, ErrorBody, IdParams, Nullable, Ok, ok } from '../../../http/schemas.js'

const Origin = Type.String({ maxLength: 255, pattern: ORIGIN_PATTERN, description: '`*` or scheme://host[:port]' })
const HHMM = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' })
const Bot = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 100 })),
  greeting: Type.Optional(Type.String({ maxLength: 4000 })),
  offHoursText: Type.Optional(Type.String({ maxLength: 4000 })),
  timeZone: Type.Optional(Type.String({ maxLength: 64 })),
  hours: Type.Optional(Type.Record(Type.String({ pattern: '^[0-6]$' }), Type.Tuple([HHMM, HHMM]))),
  followUpMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
  followUpText: Type.Optional(Type.String({ maxLength: 4000 })),
}, { additionalProperties: false })

const Telegram = Type.Object({
  botToken: Type.Optional(Nullable(Type.String({ maxLength: 200, pattern: '^\\d+:[A-Za-z0-9_-]+$' }))),
  chatId: Type.Optional(Nullable(Type.String({ maxLength: 64, pattern: '^-?\\d+$|^@\\w+$' }))),
  anyMember: Type.Optional(Type.Boolean({ description: 'any member of the chat may answer and /close, not only agents linked by their Telegram user id (default false)' })),
}, { additionalProperties: false })

const AutoAssign = Type.Object({
  enabled: Type.Boolean(),
  maxOpenPerAgent: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'open chats an agent is given at most (default 5)' })),
}, { additionalProperties: false, description: 'new chats go at once to an online agent of the site with the fewest open assigned chats, below the cap (ties: who waited longest since their last assignment)' })

const SiteFields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: '1–100 characters, not only spaces' }),
  origins: Type.Array(Origin, { maxItems: 50 }),
  telegram: Type.Optional(Telegram),
  bot: Type.Optional(Nullable(Bot)),
  retentionDays: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3650, description: 'erase sessions closed longer ago than this many days (null: keep them)' }))),
  autoAssign: Type.Optional(AutoAssign),
  legacyBrowserSecret: Type.Optional(Type.Boolean({
    description: 'accept X-API-Secret from browsers, as the original guide\'s widget sends it (it exposes every chat of the site to any visitor; move to /widget.js and turn this off)',
  })),
}
const CreateBody = Type.Object(SiteFields, { additionalProperties: false })
const PatchBody = Type.Partial(Type.Object(SiteFields, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 })

const Site = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  apiKey: Type.String(),
  origins: Type.Array(Type.String()),
  legacyBrowserSecret: Type.Boolean(),
  telegram: Type.Object({ chatId: Nullable(Type.String()), botTokenSet: Type.Boolean(), botTokenHint: Nullable(Type.String()), anyMember: Type.Boolean() }),
  bot: Nullable(Bot),
  retentionDays: Nullable(Type.Integer()),
  autoAssign: Type.Object({ enabled: Type.Boolean(), maxOpenPerAgent: Type.Integer() }),
  createdAt: DateTime,
  updatedAt: DateTime,
})
const SiteReply = Ok(Type.Object({ site: Site }))
const SiteWithSecret = Ok(Type.Object({ site: Site, apiSecret: Type.String({ description: 'shown only here; stored hashed' }) }))

function siteInput(body: Partial<Static<typeof CreateBody>>): Partial<SiteInput> {
  const { telegram, autoAssign, ...rest } = body
  const timeZone = body.bot?.timeZone
  if (timeZone !== undefined && !isTimeZone(timeZone)) {
    throw validationError(`bot.timeZone must be an IANA time zone such as Europe/Kyiv, got "${timeZone}"`, [{ field: 'bot.timeZone', message: 'unknown time zone' }])
  }
  return {
    ...rest,
    ...(telegram?.botToken !== undefined ? { telegramBotToken: telegram.botToken } : {}),
    ...(telegram?.chatId !== undefined ? { telegramChatId: telegram.chatId } : {}),
    ...(autoAssign ? { autoAssign: autoAssign.enabled } : {}),
    ...(autoAssign?.maxOpenPerAgent !== undefined ? { maxOpenPerAgent: autoAssign.maxOpenPerAgent } : {}),
    ...(telegram?.anyMember !== undefined ? { telegramAnyMember: telegram.anyMember } : {}),
  }
}

export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireAdmin }
  const tags = ['admin']
  const security = [{ bearer: [] }]
  const siteId = (id: string) => {
    if (!isUuid(id)) throw notFound('Site')
    return id
  }

  app.get('/sites', { ...common, schema: { summary: 'Sites', tags, security, response: { 200: Ok(Type.Object({ sites: Type.Array(Site) })), '4xx': ErrorBody } } },
    async () => ok({ sites: (await listSites(app.db)).map(siteView) }))

  app.post('/sites', { ...common, schema: { summary: 'Create a site; the secret is shown once', tags, security, body: CreateBody, response: { 201: SiteWithSecret, '4xx': ErrorBody } } },
    async (req, reply) => {
      const { site, apiSecret } = await createSite(app.db, app.secretBox, { ...siteInput(req.body), name: req.body.name, origins: req.body.origins })
      await app.audit(req, { action: 'site.created', target: site.id, siteId: site.id, details: { name: site.name } })
      return reply.code(201).send(ok({ site: siteView(site), apiSecret }))
    })

  app.get('/sites/:id', { ...common, schema: { summary: 'A site', tags, security, params: IdParams, response: { 200: SiteReply, '4xx': ErrorBody } } },
    async (req) => ok({ site: siteView(await getSite(app.db, siteId(req.params.id))) }))

  app.patch('/sites/:id', { ...common, schema: { summary: 'Update name, origins, Telegram, bot, retention or auto-assignment settings', tags, security, params: IdParams, body: PatchBody, response: { 200: SiteReply, '4xx': ErrorBody } } },
    async (req) => {
      const site = await updateSite(app.db, app.bus, app.secretBox, siteId(req.params.id), siteInput(req.body))
      app.forgetSites()
      // which settings changed; their values (tokens) stay out of the log
      await app.audit(req, { action: 'site.updated', target: site.id, siteId: site.id, details: { fields: Object.keys(req.body).sort(), ...(req.body.retentionDays !== undefined ? { retentionDays: req.body.retentionDays } : {}) } })
      // chats waiting on a site that just turned auto-assignment on (or raised its cap) are placed now
      if (site.autoAssign) app.assigner.kick()
      return ok({ site: siteView(site) })
    })

  app.post('/sites/:id/rotate', { ...common, schema: { summary: 'New API key and secret; the old ones stop working', tags, security, params: IdParams, response: { 200: SiteWithSecret, '4xx': ErrorBody } } },
    async (req) => {
      const { site, apiSecret } = await rotateSiteCredentials(app.db, app.bus, siteId(req.params.id))
      app.forgetSites()
      await app.audit(req, { action: 'site.secret_rotated', target: site.id, siteId: site.id })
      return ok({ site: siteView(site), apiSecret })
    })
}) satisfies FastifyPluginAsyncTypebox
