import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { conflict, notFound } from '../../../chat/errors.js'
import { isUuid } from '../../../chat/ids.js'
import { createUser, getUser, listUsers, updateUser, userView, type User as UserRow } from '../../../chat/users.js'
import { Email, ErrorBody, IdParams, Nullable, Ok, ok, SiteIds, StringEnum, User } from '../../../http/schemas.js'

const Role = StringEnum(['admin', 'agent'])
const Password = Type.String({ minLength: 8, maxLength: 1024 })
// not blank: it signs the user's replies to visitors
const UserName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: '1–100 characters, not only spaces' })

const CreateBody = Type.Object({ email: Email, name: UserName, password: Password, role: Role, siteIds: Type.Optional(SiteIds) }, { additionalProperties: false })
const PatchBody = Type.Object({
  name: Type.Optional(UserName),
  role: Type.Optional(Role),
  password: Type.Optional(Password),
  disabled: Type.Optional(Type.Boolean()),
  telegramUserId: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }))),
  siteIds: Type.Optional(SiteIds),
  availability: Type.Optional(StringEnum(['online', 'away'])),
}, { additionalProperties: false, minProperties: 1 })

const UserReply = Ok(Type.Object({ user: User }))

const siteIdsNote = '`siteIds`: the sites the user works on (an agent sees only their sessions), or null for all (the default; admins see every session whatever it says). An unknown site is a 400.'

export default (async (app) => {
  const common = { config: { rateLimit: app.limits.admin }, preParsing: app.requireAdmin }
  const tags = ['admin']
  const security = [{ bearer: [] }]
  const view = (u: UserRow) => userView(u, app.presence.isConnected(u.id))

  app.get('/users', { ...common, schema: { summary: 'Users, with who is online now', tags, security, response: { 200: Ok(Type.Object({ users: Type.Array(User) })), '4xx': ErrorBody } } },
    async () => ok({ users: (await listUsers(app.db)).map(view) }))

  app.post('/users', { ...common, schema: { summary: 'Create a user', description: siteIdsNote, tags, security, body: CreateBody, response: { 201: UserReply, '4xx': ErrorBody } } },
    async (req, reply) => {
      const user = await createUser(app.db, req.body)
      await app.audit(req, { action: 'user.created', target: user.id, details: { role: user.role } })
      return reply.code(201).send(ok({ user: view(user) }))
    })

  app.get('/users/:id', { ...common, schema: { summary: 'A user', tags, security, params: IdParams, response: { 200: UserReply, '4xx': ErrorBody } } },
    async (req) => {
      const user = isUuid(req.params.id) ? await getUser(app.db, req.params.id) : undefined
      if (!user) throw notFound('User')
      return ok({ user: view(user) })
    })

  app.patch('/users/:id', {
    ...common,
    schema: {
      summary: 'Update a user (a disabled user, or one whose password or role changed, must log in again)',
      description: `${siteIdsNote} Changes reach the user's open dashboards on every instance at once. Taken off a site, the user gives back their open chats there (disabled: all of them).`,
      tags, security, params: IdParams, body: PatchBody, response: { 200: UserReply, '4xx': ErrorBody },
    },
  }, async (req) => {
    if (!isUuid(req.params.id)) throw notFound('User')
    // an admin locking themselves out leaves nobody to undo it
    if (req.params.id === req.staff?.id && (req.body.disabled === true || req.body.role === 'agent')) {
      throw conflict('You cannot disable or demote yourself')
    }
    const user = await updateUser(app.db, app.bus, req.params.id, req.body)
    // which fields changed (a new password is "password", never its value)
    const { name, role, disabled, telegramUserId } = req.body
    const values = Object.fromEntries(Object.entries({ name, role, disabled, telegramUserId }).filter(([, v]) => v !== undefined))
    await app.audit(req, { action: 'user.updated', target: user.id, details: { fields: Object.keys(req.body).sort(), ...values } })
    app.presence.setAvailability(user.id, user.availability)
    return ok({ user: view(user) })
  })
}) satisfies FastifyPluginAsyncTypebox
