import { resolve } from 'node:path'
import { s3Config, type AttachmentsConfig } from './config/attachments.js'
import { bool, ConfigError, int, oneOf, positiveNumber, str, url, withoutCredentials, type Env } from './config/env.js'
import { natsServers } from './config/nats.js'
import { siteOrigins } from './config/origins.js'
import { checkSecretLengths } from './config/secrets.js'
import { trustProxy, type TrustProxy } from './config/trust-proxy.js'

export { ConfigError }
export type { AttachmentsConfig, S3Config } from './config/attachments.js'
export type { TrustProxy }

export type RateLimitConfig = {
  /** public requests per minute from one IP, over every public route and site key (counted before the key is looked up) */
  publicPerMinute: number
  /** messages per minute one session may send */
  sendsPerMinute: number
  /** sessions one IP may create per minute */
  sessionsPerMinute: number
  /** login attempts per minute for one account (the trimmed, lower-cased email) */
  loginPerMinute: number
  /** login attempts per minute from one IP, whatever the email */
  loginIpPerMinute: number
  /** admin API requests per minute per IP */
  adminPerMinute: number
  /** legacy Telegram notifications (POST /notify) per minute per IP */
  notifyPerMinute: number
  /** files one session may get uploaded per minute (visitor and staff together) */
  uploadsPerMinute: number
  /** files visitors on one IP may upload per minute, over all their sessions */
  uploadsIpPerMinute: number
}

export type Config = {
  port: number
  host: string
  nodeEnv: string
  /** unset: an embedded Postgres is started under dataDir */
  databaseUrl: string | undefined
  dataDir: string
  dbPoolSize: number
  /** unset: a random secret is generated once and kept in the database, shared by all instances */
  jwtSecret: string | undefined
  jwtTtlSeconds: number
  adminEmail: string | undefined
  adminPassword: string | undefined
  siteApiKey: string | undefined
  siteApiSecret: string | undefined
  siteOrigins: string[]
  telegramBotToken: string | undefined
  telegramChatId: string | undefined
  telegramApiUrl: string
  telegramWebhookUrl: string | undefined
  telegramWebhookSecret: string | undefined
  /** origin the dashboard links point at (Telegram notifications); defaults to http://localhost:PORT */
  publicUrl: string
  redisUrl: string | undefined
  /** how instances tell each other about changes: Postgres NOTIFY (nothing else to run) or NATS */
  realtimeBus: 'postgres' | 'nats'
  /** NATS servers (REALTIME_BUS=nats); several for a cluster */
  natsServers: string[]
  metricsToken: string | undefined
  trustProxy: TrustProxy
  logLevel: string
  rateLimits: RateLimitConfig
  /** maximum JSON body in bytes */
  bodyLimitBytes: number
  /** the longest a client may take to send a whole request (headers and body); 408 and closed after */
  requestTimeoutMs: number
  /** on SIGTERM, how long requests in flight may still take before their connections are cut */
  drainTimeoutMs: number
  /** WebSocket ping interval; a peer that misses one is dropped */
  wsHeartbeatMs: number
  /** a socket whose unsent frames pass this many bytes is closed with 4008 (reconnect and resume) */
  wsMaxBufferedBytes: number
  /** how often the hub looks for messages whose notification was lost */
  wsSweepMs: number
  /** how often an instance repeats the presence of its dashboards' users; a word holds for three of these */
  presenceHeartbeatMs: number
  /** how often each instance looks for chats auto-assignment can place (also done at once on a new chat, a freed agent, an agent coming online) */
  autoAssignSweepMs: number
  /** widget sockets one session may hold open on this instance */
  wsMaxPerSession: number
  /** widget sockets one IP may hold open on this instance */
  wsMaxPerIp: number
  /** password hashes (scrypt, ~32 MiB each) computed at once; more wait in a bounded queue */
  passwordHashConcurrency: number
  /** logins waiting for a hashing slot; beyond it a login is answered 429 at once */
  passwordHashQueue: number
  /** webhooks may point at loopback, private and link-local addresses (tests' local receivers) */
  webhookAllowPrivate: boolean
  /** encrypts secrets at rest (bot tokens, webhook secrets, generated keys); unset: derived from JWT_SECRET, or none */
  secretsKey: string | undefined
  /** the key before a rotation: values it encrypted stay readable until re-encrypted */
  secretsKeyPrevious: string | undefined
  outbox: OutboxConfig
  attachments: AttachmentsConfig
  email: EmailConfig
  privacy: PrivacyConfig
  backup: BackupConfig
}

export type EmailConfig = {
  /** unset: no email is sent (offline replies and transcripts are off) */
  smtpUrl: string | undefined
  /** the sender address; the display name is the site's name */
  from: string
  /** a visitor is away after this long without a public request or an open widget socket */
  visitorAwayMs: number
  /** each instance writes when it last heard from visitors this often (one statement per round) */
  visitorSeenFlushMs: number
  /** agent replies to an away visitor within this long after the first go out in one email */
  batchMs: number
  /** how long the link in an email reopens the conversation */
  linkTtlMs: number
}

export type PrivacyConfig = {
  /** how often the retention job runs (one instance at a time) */
  retentionIntervalMs: number
  /** sessions erased per transaction by the retention job */
  retentionBatchSize: number
  /** audit entries are kept this long at most (less when their site's retentionDays is shorter) */
  auditRetentionDays: number
  /** outbox rows delivered or given up on, and Telegram message links, are kept this long */
  deliveredRetentionDays: number
}

export type BackupConfig = {
  /** encrypts backups (AES-256-GCM under a key derived from it); restore needs the same one */
  key: string | undefined
  /** scheduled backups go here; off unless both dir and everyHours are set */
  dir: string | undefined
  everyHours: number | undefined
  /** scheduled backup files kept in dir; older ones are deleted */
  keep: number
}

export type OutboxConfig = {
  /** this instance runs the delivery worker; off on web-only instances while another instance delivers */
  deliver: boolean
  /** how often each instance looks for due notifications */
  pollMs: number
  /** rows one worker takes per round */
  batchSize: number
  /** first retry delay; doubles per attempt (with jitter) up to retryMaxMs */
  retryBaseMs: number
  retryMaxMs: number
  /** after this many failed attempts a row is marked failed (about two hours with the defaults) */
  maxAttempts: number
  /** one HTTP call to Telegram or a webhook receiver */
  sendTimeoutMs: number
  /** getUpdates long-poll wait in seconds (0: short polling, for tests) */
  telegramLongPollSeconds: number
  /** pause between getUpdates rounds and between attempts to take the reader lock */
  telegramIdleMs: number
  /** how often the bot's "we will get back to you" follow-ups are looked for */
  botFollowUpPollMs: number
}

/** DATABASE_URL, checked here so that a typo stops the start naming it; the value is not echoed (it holds the password). */
function databaseUrl(env: Env): string | undefined {
  const raw = str(env, 'DATABASE_URL')
  if (raw === undefined) return undefined
  const parsed = URL.parse(raw)
  if (parsed?.protocol !== 'postgres:' && parsed?.protocol !== 'postgresql:') throw new ConfigError('DATABASE_URL must be a URL such as postgres://user:password@host:5432/db')
  // the driver lets the URL's name win over the one each connection is given, and the names matter:
  // a restore refuses to run under servers, and each bus notifies only while it sees other listeners
  if (parsed.searchParams.has('application_name')) throw new ConfigError('DATABASE_URL must not set application_name: the server names its own connections (livechat, livechat-listener, livechat-locks)')
  return raw
}

/** Reads the environment once into a typed, validated object; nothing else reads process.env. */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = str(env, 'NODE_ENV') ?? 'development'
  const production = nodeEnv === 'production'
  const port = int(env, 'PORT', 3000, 0, 65535)
  const jwtSecret = str(env, 'JWT_SECRET')
  if (production && !jwtSecret) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production')
  checkSecretLengths(env, production)
  const adminEmail = str(env, 'ADMIN_EMAIL')
  const adminPassword = str(env, 'ADMIN_PASSWORD')
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError('ADMIN_EMAIL and ADMIN_PASSWORD go together')
  }
  if (adminPassword !== undefined && adminPassword.length < 8) throw new ConfigError('ADMIN_PASSWORD must be at least 8 characters')
  const siteApiKey = str(env, 'SITE_API_KEY')
  const siteApiSecret = str(env, 'SITE_API_SECRET')
  if (siteApiSecret !== undefined && siteApiKey === undefined) throw new ConfigError('SITE_API_SECRET needs SITE_API_KEY')
  const smtpUrl = str(env, 'SMTP_URL')
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) throw new ConfigError(`SMTP_URL must look like smtp://user:pass@host:587 or smtps://..., got "${withoutCredentials(smtpUrl)}"`)
  const emailFrom = str(env, 'EMAIL_FROM')
  if (emailFrom !== undefined && !/^[^\s<>@]+@[^\s<>@]+$|<[^\s<>@]+@[^\s<>@]+>$/.test(emailFrom)) {
    throw new ConfigError(`EMAIL_FROM must be an address such as chat@shop.example, got "${emailFrom}"`)
  }
  const realtimeBus = oneOf(env, 'REALTIME_BUS', ['postgres', 'nats'] as const, 'postgres')
  const telegramBotToken = str(env, 'TELEGRAM_BOT_TOKEN')
  const telegramChatId = str(env, 'TELEGRAM_CHAT_ID')
  if ((telegramBotToken === undefined) !== (telegramChatId === undefined)) {
    throw new ConfigError('TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID go together')
  }
  const telegramWebhookSecret = str(env, 'TELEGRAM_WEBHOOK_SECRET')
  // what Telegram's setWebhook takes: a base64 secret's + / = would make every setWebhook fail, and no reply arrive
  if (telegramWebhookSecret !== undefined && !/^[\w-]{1,256}$/.test(telegramWebhookSecret)) throw new ConfigError('TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 of them), as Telegram requires')
  const backupDir = str(env, 'BACKUP_DIR')
  const backupEveryHours = positiveNumber(env, 'BACKUP_EVERY_HOURS')
  if ((backupDir === undefined) !== (backupEveryHours === undefined)) throw new ConfigError('BACKUP_DIR and BACKUP_EVERY_HOURS go together')
  const backupKey = str(env, 'BACKUP_KEY')
  if (backupKey !== undefined && backupKey.length < 16) throw new ConfigError('BACKUP_KEY must be at least 16 characters')
  return {
    port,
    host: str(env, 'HOST') ?? '0.0.0.0',
    nodeEnv,
    databaseUrl: databaseUrl(env),
    dataDir: resolve(str(env, 'DATA_DIR') ?? './.data'),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 500),
    jwtSecret,
    jwtTtlSeconds: int(env, 'JWT_TTL_SECONDS', 12 * 3600, 60),
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    siteApiKey,
    siteApiSecret,
    siteOrigins: siteOrigins(env, production),
    telegramBotToken,
    telegramChatId,
    telegramApiUrl: url(env, 'TELEGRAM_API_URL', 'https://api.telegram.org') ?? 'https://api.telegram.org',
    telegramWebhookUrl: url(env, 'TELEGRAM_WEBHOOK_URL'),
    telegramWebhookSecret,
    publicUrl: url(env, 'PUBLIC_URL') ?? `http://localhost:${port}`,
    redisUrl: url(env, 'REDIS_URL'),
    realtimeBus,
    natsServers: natsServers(env, realtimeBus),
    metricsToken: str(env, 'METRICS_TOKEN'),
    trustProxy: trustProxy(env),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    rateLimits: {
      publicPerMinute: int(env, 'RATE_LIMIT_PUBLIC_PER_MINUTE', 1200, 1),
      sendsPerMinute: int(env, 'RATE_LIMIT_SENDS_PER_MINUTE', 120, 1),
      sessionsPerMinute: int(env, 'RATE_LIMIT_SESSIONS_PER_MINUTE', 200, 1),
      loginPerMinute: int(env, 'RATE_LIMIT_LOGIN_PER_MINUTE', 20, 1),
      loginIpPerMinute: int(env, 'RATE_LIMIT_LOGIN_IP_PER_MINUTE', 60, 1),
      adminPerMinute: int(env, 'RATE_LIMIT_ADMIN_PER_MINUTE', 3000, 1),
      notifyPerMinute: int(env, 'RATE_LIMIT_NOTIFY_PER_MINUTE', 10, 1),
      uploadsPerMinute: int(env, 'RATE_LIMIT_UPLOADS_PER_MINUTE', 20, 1),
      uploadsIpPerMinute: int(env, 'RATE_LIMIT_UPLOADS_IP_PER_MINUTE', 120, 1),
    },
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 120_000, 1000),
    drainTimeoutMs: int(env, 'DRAIN_TIMEOUT_MS', 5_000, 100),
    wsHeartbeatMs: int(env, 'WS_HEARTBEAT_MS', 25_000, 50),
    wsMaxBufferedBytes: int(env, 'WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
    wsSweepMs: int(env, 'WS_SWEEP_MS', 2_000, 50),
    presenceHeartbeatMs: int(env, 'PRESENCE_HEARTBEAT_MS', 5_000, 50, 20_000),
    autoAssignSweepMs: int(env, 'AUTO_ASSIGN_SWEEP_MS', 2_000, 50, 5_000),
    wsMaxPerSession: int(env, 'WS_MAX_PER_SESSION', 8, 1),
    wsMaxPerIp: int(env, 'WS_MAX_PER_IP', 50, 1),
    passwordHashConcurrency: int(env, 'PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    passwordHashQueue: int(env, 'PASSWORD_HASH_QUEUE', 32, 0, 10_000),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    secretsKey: str(env, 'SECRETS_KEY'),
    secretsKeyPrevious: str(env, 'SECRETS_KEY_PREVIOUS'),
    outbox: {
      deliver: bool(env, 'OUTBOX_DELIVERY', true),
      pollMs: int(env, 'OUTBOX_POLL_MS', 1000, 10),
      batchSize: int(env, 'OUTBOX_BATCH_SIZE', 20, 1, 1000),
      retryBaseMs: int(env, 'OUTBOX_RETRY_BASE_MS', 2000, 1),
      retryMaxMs: int(env, 'OUTBOX_RETRY_MAX_MS', 10 * 60_000, 1),
      maxAttempts: int(env, 'OUTBOX_MAX_ATTEMPTS', 20, 1, 1000),
      sendTimeoutMs: int(env, 'OUTBOX_SEND_TIMEOUT_MS', 10_000, 100),
      telegramLongPollSeconds: int(env, 'TELEGRAM_LONG_POLL_SECONDS', 25, 0, 50),
      telegramIdleMs: int(env, 'TELEGRAM_IDLE_MS', 1000, 10),
      botFollowUpPollMs: int(env, 'BOT_FOLLOW_UP_POLL_MS', 30_000, 10),
    },
    attachments: {
      maxBytes: int(env, 'ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      urlTtlSeconds: int(env, 'ATTACHMENT_URL_TTL_SECONDS', 3600, 60, 7 * 24 * 3600),
      s3: s3Config(env),
    },
    email: {
      smtpUrl,
      from: emailFrom ?? `no-reply@${new URL(url(env, 'PUBLIC_URL') ?? 'http://localhost').hostname}`,
      visitorAwayMs: int(env, 'VISITOR_AWAY_MS', 60_000, 100),
      visitorSeenFlushMs: int(env, 'VISITOR_SEEN_FLUSH_MS', 10_000, 50),
      batchMs: int(env, 'EMAIL_BATCH_MS', 120_000, 0),
      linkTtlMs: int(env, 'EMAIL_LINK_TTL_HOURS', 7 * 24, 1, 24 * 365) * 3_600_000,
    },
    privacy: {
      retentionIntervalMs: int(env, 'RETENTION_INTERVAL_MS', 3_600_000, 100),
      retentionBatchSize: int(env, 'RETENTION_BATCH_SIZE', 100, 1, 10_000),
      auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', 365, 1, 36_500),
      deliveredRetentionDays: int(env, 'DELIVERED_RETENTION_DAYS', 30, 1, 36_500),
    },
    backup: {
      key: backupKey,
      dir: backupDir === undefined ? undefined : resolve(backupDir),
      everyHours: backupEveryHours,
      keep: int(env, 'BACKUP_KEEP', 7, 1, 10_000),
    },
  }
}
