import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { unauthorized } from '../../../chat/errors.js'
import { recordAudit } from '../../../chat/audit.js'
import { authenticate, normaliseEmail, updateUser, userView } from '../../../chat/users.js'
import { ErrorBody, Ok, ok, StringEnum, User } from '../../../http/schemas.js'
import { staffOf } from '../../../http/staff.js'
import { bearerToken } from '../../../plugins/auth.js'

const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
}, { additionalProperties: false })

const MePatch = Type.Object({
  availability: StringEnum(['online', 'away']),
}, { additionalProperties: false })

const UserReply = Ok(Type.Object({ user: User }))

export default (async (app) => {
  app.post('/login', {
    schema: {
      summary: 'Log in; returns a JWT for the admin API and the dashboard socket',
      tags: ['auth'],
      body: LoginBody,
      response: { 200: Ok(Type.Object({ token: Type.String(), expiresIn: Type.Integer(), user: User })), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.login },
    // the account is counted and looked up by its normalised email, so "  Admin@x" is admin@x
    preValidation: async (req) => {
      const body = req.body as { email?: unknown } | undefined
      if (body && typeof body.email === 'string') body.email = normaliseEmail(body.email)
    },
    preHandler: app.limits.checkLoginAccount,
  }, async (req) => {
    const user = await authenticate(app.db, req.body.email, req.body.password, app.passwordHashGate)
    // one message whether the email is unknown, the password wrong or the account disabled
    // (failed attempts are not logged: the extra write would tell an existing account by its timing)
    if (!user) throw unauthorized('Wrong email or password')
    await recordAudit(app.db, { actor: { id: user.id, name: user.name }, action: 'user.login', target: user.id })
    return ok({ token: app.issueStaffToken(user), expiresIn: app.config.jwtTtlSeconds, user: userView(user, app.presence.isConnected(user.id)) })
  })

  app.post('/logout', {
    schema: {
      summary: 'Sign out: the token stops working at once, on every instance, and its dashboard sockets close (4001)',
      tags: ['auth'],
      security: [{ bearer: [] }],
      response: { 204: Type.Null(), '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req, reply) => {
    const token = bearerToken(req)
    if (!req.staff || !token) throw unauthorized()
    await app.revokeStaffToken(token, req.staff)
    return reply.code(204).send(null)
  })

  app.get('/me', {
    schema: { summary: 'The logged-in user', tags: ['auth'], security: [{ bearer: [] }], response: { 200: UserReply, '4xx': ErrorBody } },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    const staff = staffOf(req)
    return ok({ user: userView(staff, app.presence.isConnected(staff.id)) })
  })

  app.patch('/me', {
    schema: {
      summary: 'Set your availability (Online / Away)',
      description: 'A user is online while a dashboard of theirs is open and their availability is `online`; every instance sees the change within 2 s.',
      tags: ['auth'], security: [{ bearer: [] }], body: MePatch, response: { 200: UserReply, '4xx': ErrorBody },
    },
    config: { rateLimit: app.limits.admin },
    preParsing: app.requireStaff,
  }, async (req) => {
    const user = await updateUser(app.db, app.bus, staffOf(req).id, { availability: req.body.availability })
    // this instance's sockets of the user say so at once; other instances re-read on the 'user' event
    app.presence.setAvailability(user.id, user.availability)
    return ok({ user: userView(user, app.presence.isConnected(user.id)) })
  })
}) satisfies FastifyPluginAsyncTypebox
