import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { cannedView, createCanned, deleteCanned, listCanned, SHORTCUT_PATTERN, updateCanned } from '../../../chat/canned.js'
import { DateTime, ErrorBody, Id, IdParams, Nullable, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

const Shortcut = Type.String({ pattern: SHORTCUT_PATTERN, description: '1–32 of a-z, 0-9, _ and - (upper case is refused, not folded)' })
const CannedText = Type.String({ maxLength: 20_000, description: '1–4000 characters once trimmed; may hold {{visitor.name}} and {{agent.name}}' })
const SiteRef = Nullable(Id({ format: 'uuid', description: 'the site it belongs to; null: shared by every site' }))

const Canned = Type.Object({
  id: Type.String({ format: 'uuid' }),
  siteId: Nullable(Type.String({ format: 'uuid' })),
  shortcut: Type.String(),
  text: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
})
const CannedReply = Ok(Type.Object({ canned: Canned }))

const CreateBody = Type.Object({ shortcut: Shortcut, text: CannedText, siteId: Type.Optional(SiteRef) }, { additionalProperties: false })
const PatchBody = Type.Object({ shortcut: Type.Optional(Shortcut), text: Type.Optional(CannedText), siteId: Type.Optional(SiteRef) }, { additionalProperties: false, minProperties: 1 })
const ListQuery = Type.Object({ siteId: Type.Optional(Id({ format: 'uuid' })) })

export default (async (app) => {
  const tags = ['chat']
  const security = [{ bearer: [] }]
  const config = { rateLimit: app.limits.admin }
  const conflictNote = 'A shortcut is unique within its scope (a site, or the shared scope): 409 CONFLICT otherwise.'

  app.get('/canned', {
    schema: {
      summary: 'Canned responses',
      description: 'With `siteId`: the shared ones and that site\'s (404 for a site the caller does not see); without: the shared ones and those of every site the caller sees. By shortcut.',
      tags, security, querystring: ListQuery,
      response: { 200: Ok(Type.Object({ canned: Type.Array(Canned) })), '4xx': ErrorBody },
    },
    config,
    preParsing: app.requireStaff,
  }, async (req) => ok({ canned: (await listCanned(app.db, staffOf(req), req.query.siteId)).map(cannedView) }))

  app.post('/canned', {
    schema: { summary: 'Add a canned response (admins)', description: conflictNote, tags, security, body: CreateBody, response: { 201: CannedReply, '4xx': ErrorBody } },
    config,
    preParsing: app.requireAdmin,
  }, async (req, reply) => {
    const canned = await createCanned(app.db, { shortcut: req.body.shortcut, text: req.body.text, siteId: req.body.siteId ?? null })
    return reply.code(201).send(ok({ canned: cannedView(canned) }))
  })

  app.patch('/canned/:id', {
    schema: { summary: 'Change a canned response (admins)', description: conflictNote, tags, security, params: IdParams, body: PatchBody, response: { 200: CannedReply, '4xx': ErrorBody } },
    config,
    preParsing: app.requireAdmin,
  }, async (req) => ok({ canned: cannedView(await updateCanned(app.db, req.params.id, req.body)) }))

  app.delete('/canned/:id', {
    schema: { summary: 'Delete a canned response (admins)', tags, security, params: IdParams, response: { 204: Type.Null(), '4xx': ErrorBody } },
    config,
    preParsing: app.requireAdmin,
  }, async (req, reply) => {
    await deleteCanned(app.db, req.params.id)
    return reply.code(204).send(null)
  })
}) satisfies FastifyPluginAsyncTypebox
