import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { addNote } from '../../../chat/notes.js'
import { ErrorBody, IdParams, Note, Ok, ok } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'

const NoteBody = Type.Object({ text: Type.String({ maxLength: 20_000 }) }, { additionalProperties: false })

export default (async (app) => {
  app.post('/sessions/:id/notes', {
    schema: {
      summary: 'Leave a private note on a session (staff only)',
      description: 'Text 1–4000 characters once trimmed. Never shown to the visitor, never sent to Telegram or webhooks; takes no message seq. Dashboards get `note.created`.',
      tags: ['chat'],
      security: [{ bearer: [] }],
      params: IdParams,
      body: NoteBody,
      response: { 201: Ok(Type.Object({ note: Note })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req, reply) => {
    const note = await addNote(app.db, app.bus, staffOf(req), req.params.id, req.body.text)
    return reply.code(201).send(ok({ note }))
  })
}) satisfies FastifyPluginAsyncTypebox
