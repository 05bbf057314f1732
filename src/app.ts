import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import authPlugin from './plugins/auth.js'
import busPlugin from './plugins/bus.js'
import corsPlugin from './plugins/cors.js'
import dbPlugin from './plugins/db.js'
import drainPlugin from './plugins/drain.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin from './plugins/errors.js'
import filesPlugin from './plugins/files.js'
import { clientErrorHandler, envelopeFor } from './http/errors.js'
import { errWithoutValues } from './http/log-errors.js'
import { compileValidator, schemaController } from './http/schema-compilers.js'
import { refuseBodyWhereNoneIsTaken } from './http/bodyless.js'
import { loneSurrogateError, nulError } from './chat/errors.js'
import { loneSurrogateAt, nulAt } from './http/lone-surrogates.js'
import { bodyDeadline, LINGER_MS, lingerOverUnreadBody } from './http/request-deadline.js'
import limitsPlugin from './plugins/limits.js'
import metricsPlugin from './plugins/metrics.js'
import realtimePlugin from './plugins/realtime.js'
import presencePlugin from './plugins/presence.js'
import assignmentPlugin from './plugins/assignment.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import secretsPlugin from './plugins/secrets.js'
import outboxPlugin from './plugins/outbox.js'
import auditPlugin from './plugins/audit.js'
import emailPlugin from './plugins/email.js'
import erasurePlugin from './plugins/erasure.js'
import retentionPlugin from './plugins/retention.js'
import visitorSeenPlugin from './plugins/visitor-seen.js'
import telegramPlugin from './plugins/telegram.js'
import botPlugin from './plugins/bot.js'
import backupsPlugin from './plugins/backups.js'
import webPlugin from './plugins/web.js'
import healthRoutes from './routes/health.js'
import publicChatSessionRoutes from './routes/api/public/chat/sessions.js'
import publicChatMessageRoutes from './routes/api/public/chat/messages.js'
import publicChatSocketRoutes from './routes/api/public/chat/socket.js'
import publicChatNotifyRoutes from './routes/api/public/chat/notify.js'
import publicChatReadRoutes from './routes/api/public/chat/read.js'
import publicChatAttachmentRoutes from './routes/api/public/chat/attachments.js'
import publicChatRatingRoutes from './routes/api/public/chat/rating.js'
import publicChatTranscriptRoutes from './routes/api/public/chat/transcript.js'
import publicChatResumeRoutes from './routes/api/public/chat/resume.js'
import publicChatUnsubscribeRoutes from './routes/api/public/chat/unsubscribe.js'
import publicChatAvailabilityRoutes from './routes/api/public/chat/availability.js'
import authRoutes from './routes/api/auth/index.js'
import chatSessionRoutes from './routes/api/chat/sessions.js'
import chatStatsRoutes from './routes/api/chat/stats.js'
import chatSocketRoutes from './routes/api/chat/socket.js'
import chatAttachmentRoutes from './routes/api/chat/attachments.js'
import fileRoutes from './routes/api/files/index.js'
import chatSessionPrivacyRoutes from './routes/api/chat/session-privacy.js'
import chatAssignmentRoutes from './routes/api/chat/assignment.js'
import chatNoteRoutes from './routes/api/chat/notes.js'
import chatLabelRoutes from './routes/api/chat/labels.js'
import chatCannedRoutes from './routes/api/chat/canned.js'
import adminUserRoutes from './routes/api/admin/users.js'
import adminSiteRoutes from './routes/api/admin/sites.js'
import adminWebhookRoutes from './routes/api/admin/webhooks.js'
import adminNotificationRoutes from './routes/api/admin/notifications.js'
import adminPrivacyRoutes from './routes/api/admin/privacy.js'
import adminBackupRoutes from './routes/api/admin/backups.js'
import adminEmailRoutes from './routes/api/admin/email.js'
import telegramWebhookRoutes from './routes/api/telegram/webhook.js'

export type AppOptions = {
  config: Config
  databaseUrl: string
  logger?: FastifyServerOptions['logger']
  /** where the default logger writes (stdout when unset); tests read the log lines from it */
  logStream?: { write: (line: string) => void }
  /** defaults to the real time; tests pass a fixed one */
  clock?: () => Date
}

const silentChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, childOptions) =>
  logger.level === 'silent' && childOptions.level === undefined ? logger : logger.child(bindings, childOptions)

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops

// secrets (session and unsubscribe tokens, a file link's signature) and personal data (a
// dashboard search for a visitor's email) that URLs carry; the rest of a URL stays in the log
const PRIVATE_QUERY_PARAMS = /([?&](?:token|apiKey|api_key|sig|search)=)[^&]*/gi
// a download URL ends in the file's name ("passport-anna.pdf"); its id says which file it is
const FILE_NAME_IN_PATH = /^(\/api\/files\/[^/?]*\/)[^?]*/

export const redactUrl = (url: string) => url.replace(PRIVATE_QUERY_PARAMS, '$1[redacted]').replace(FILE_NAME_IN_PATH, '$1[name]')

/** Builds the whole product as a Fastify instance; server.ts only listens. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const app = Fastify({
    logger: opts.logger ?? {
      level: config.logLevel,
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      redact: ['req.headers.authorization', 'req.headers["x-api-secret"]', 'req.headers["x-session-token"]', 'req.headers.cookie'],
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
        err: errWithoutValues,
      },
    },
    bodyLimit: config.bodyLimitBytes,
    // a hop count as Fastify itself compiles one (its types take no number): the client is hop n
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    requestIdHeader: 'x-request-id',
    // A request's logger is a child carrying its reqId; at level silent it can never write,
    // so the request shares the app's logger, as Fastify does when there is no logger at all
    // (a pino child is ~2 µs a request). Only then: Fastify checks the answer of a
    // factory of ours on every request, which at any other level would be cost for nothing.
    ...(config.logLevel === 'silent' && !opts.logger ? { childLoggerFactory: silentChildLogger } : {}),
    // the dashboard and the docs UI use /admin/ and /docs/ alike; an attachment's download URL
    // carries its name (up to 200 characters) as a path parameter, which the router's default
    // bound of 100 answered with 414
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    return503OnClosing: true,
    schemaController,
    clientErrorHandler,
    // errors the router raises before any route (a malformed %-escape in the path) skip the error handler
    frameworkErrors: (err, req, reply: FastifyReply) => {
      const { status, body } = envelopeFor(err, req.log)
      void reply.code(status).send(body)
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(compileValidator)
  // Only JSON bodies are accepted (others are 415); an empty JSON body is "no body", since
  // clients often send the header on body-less POSTs such as /close. A string with a lone
  // surrogate or a NUL anywhere in the body refuses the body (http/lone-surrogates.ts); Telegram's
  // webhook takes it (routes/api/telegram/webhook.ts).
  app.removeAllContentTypeParsers()
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString()
    if (text.trim() === '') return done(null, undefined)
    return parseJson(req, text, (err, value) => {
      if (err) return done(err, undefined)
      const surrogateAt = loneSurrogateAt(text, value)
      if (surrogateAt !== undefined) return done(loneSurrogateError(surrogateAt), undefined)
      const nulField = nulAt(text, value)
      return nulField === undefined ? done(null, value) : done(nulError(nulField, 'body'), undefined)
    })
  })
  app.addHook('onRoute', refuseBodyWhereNoneIsTaken)
  app.addHook('onRequest', bodyDeadline(config.requestTimeoutMs))
  app.addHook('onSend', lingerOverUnreadBody(LINGER_MS))

  app.decorate('config', config)
  app.decorate('clock', opts.clock ?? (() => new Date()))
  try {
    await registerParts(app, opts)
  } catch (err) {
    // a part that refuses to start (e.g. the wrong SECRETS_KEY) leaves the ones before it
    // running: the pool and the LISTEN connection would keep the process alive
    await app.close().catch(() => undefined)
    throw err
  }
  return app
}

async function registerParts(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const { config } = opts
  await app.register(drainPlugin)
  await app.register(errorsPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(dbPlugin, { databaseUrl: opts.databaseUrl, poolSize: config.dbPoolSize })
  await app.register(busPlugin, { databaseUrl: opts.databaseUrl })
  await app.register(limitsPlugin)
  await app.register(secretsPlugin)
  await app.register(authPlugin)
  await app.register(corsPlugin)
  await app.register(docsPlugin)
  await app.register(metricsPlugin)
  await app.register(filesPlugin)
  await app.register(presencePlugin)
  await app.register(realtimePlugin)
  await app.register(assignmentPlugin)
  await app.register(visitorSeenPlugin)
  await app.register(auditPlugin)
  await app.register(erasurePlugin)
  await app.register(retentionPlugin, { databaseUrl: opts.databaseUrl })
  await app.register(emailPlugin)
  await app.register(outboxPlugin)
  await app.register(telegramPlugin, { databaseUrl: opts.databaseUrl })
  await app.register(botPlugin)
  await app.register(backupsPlugin, { databaseUrl: opts.databaseUrl })

  // each folder under routes/ is the URL prefix its files serve
  await app.register(healthRoutes)
  await app.register(async (pub) => {
    await pub.register(publicChatSessionRoutes)
    await pub.register(publicChatMessageRoutes)
    await pub.register(publicChatSocketRoutes)
    await pub.register(publicChatNotifyRoutes)
    await pub.register(publicChatReadRoutes)
    await pub.register(publicChatAttachmentRoutes)
    await pub.register(publicChatRatingRoutes)
    await pub.register(publicChatTranscriptRoutes)
    await pub.register(publicChatResumeRoutes)
    await pub.register(publicChatUnsubscribeRoutes)
    await pub.register(publicChatAvailabilityRoutes)
  }, { prefix: '/api/public/chat' })
  await app.register(authRoutes, { prefix: '/api/auth' })
  await app.register(async (chat) => {
    await chat.register(chatSessionRoutes)
    await chat.register(chatStatsRoutes)
    await chat.register(chatSocketRoutes)
    await chat.register(chatAttachmentRoutes)
    await chat.register(chatSessionPrivacyRoutes)
    await chat.register(chatAssignmentRoutes)
    await chat.register(chatNoteRoutes)
    await chat.register(chatLabelRoutes)
    await chat.register(chatCannedRoutes)
  }, { prefix: '/api/chat' })
  await app.register(fileRoutes, { prefix: '/api/files' })
  await app.register(async (admin) => {
    await admin.register(adminUserRoutes)
    await admin.register(adminSiteRoutes)
    await admin.register(adminWebhookRoutes)
    await admin.register(adminNotificationRoutes)
    await admin.register(adminPrivacyRoutes)
    await admin.register(adminBackupRoutes)
    await admin.register(adminEmailRoutes)
  }, { prefix: '/api/admin' })
  // its path (TELEGRAM_WEBHOOK_PATH, under /api/telegram) is also what the bot is told to call
  if (config.telegramWebhookUrl) await app.register(telegramWebhookRoutes)
  await app.register(webPlugin)
}
