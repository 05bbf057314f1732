import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('REALTIME_BUS defaults to postgres and needs nothing else', async (t) => {
  const config = loadConfig({})
  t.equal(config.realtimeBus, 'postgres')
  t.same(config.natsServers, [])
})

t.test('REALTIME_BUS=nats takes NATS_URL, one server or several', async (t) => {
  t.same(loadConfig({ REALTIME_BUS: 'nats', NATS_URL: 'nats://10.0.0.5:4222' }).natsServers, ['nats://10.0.0.5:4222'])
  t.same(loadConfig({ REALTIME_BUS: 'nats', NATS_URL: 'nats://a:4222, tls://b:4222' }).natsServers, ['nats://a:4222', 'tls://b:4222'])
})

t.test('a wrong bus setting stops the start naming the variable', async (t) => {
  t.throws(() => loadConfig({ REALTIME_BUS: 'nats' }), new ConfigError('REALTIME_BUS=nats needs NATS_URL (for example nats://127.0.0.1:4222)'))
  t.throws(() => loadConfig({ REALTIME_BUS: 'redis' }), /REALTIME_BUS must be one of postgres, nats/)
  t.throws(() => loadConfig({ REALTIME_BUS: 'nats', NATS_URL: 'http://x:4222' }), /NATS_URL must be nats:\/\/ or tls:\/\//)
})

t.test('a wrong LOG_LEVEL or DATABASE_URL stops the start naming the variable, without echoing the URL', async (t) => {
  t.equal(loadConfig({}).logLevel, 'info')
  t.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent')
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), new ConfigError('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'))
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/chat' }).databaseUrl, 'postgresql://u:p@db:5432/chat')
  for (const bad of ['notaurl', 'mysql://u:secretpw@db/chat', 'postgres//u:secretpw@db/chat']) {
    const err = t.throws(() => loadConfig({ DATABASE_URL: bad })) as Error
    t.match(err, new ConfigError('DATABASE_URL must be a URL such as postgres://user:password@host:5432/db'), bad)
    t.notMatch(err.message, 'secret', 'the password is not printed')
  }
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u:p@db/chat?sslmode=require' }).databaseUrl, 'postgres://u:p@db/chat?sslmode=require')
  // the driver would let it rename every connection, and the server tells its own apart by name
  const named = t.throws(() => loadConfig({ DATABASE_URL: 'postgres://u:secretpw@db/chat?application_name=chat-prod' })) as Error
  t.match(named.message, /^DATABASE_URL must not set application_name/)
  t.notMatch(named.message, 'secret', 'the password is not printed')
})

t.test('SITE_ORIGINS takes what the admin API takes, and a host without its scheme stops the start', async (t) => {
  t.same(loadConfig({}).siteOrigins, ['*'])
  t.same(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).siteOrigins, [])
  t.same(loadConfig({ SITE_ORIGINS: 'https://shop.example, http://localhost:8080/' }).siteOrigins, ['https://shop.example', 'http://localhost:8080/'])
  for (const bad of ['shop.example', 'https://shop.example/page', 'https://a.example,www.b.example']) {
    t.throws(() => loadConfig({ SITE_ORIGINS: bad }), /^SITE_ORIGINS must be \* or origins such as https:\/\/shop\.example, comma-separated, got "/, bad)
  }
})

t.test('a malformed SMTP_URL, REDIS_URL or NATS_URL stops the start without printing its password', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ SMTP_URL: 'smtp://mailer:hunter2 pw@mail.example:587' }, /^SMTP_URL must look like .*, got "smtp:\/\/\[credentials\]@mail\.example:587"$/],
    [{ SMTP_URL: 'smtp+tls://mailer:hunter2pw@mail.example' }, /got "smtp\+tls:\/\/\[credentials\]@mail\.example"$/],
    [{ REDIS_URL: 'redis://:hunter2pw@cache:99999' }, /^REDIS_URL must be a URL, got "redis:\/\/\[credentials\]@cache:99999"$/],
    [{ REALTIME_BUS: 'nats', NATS_URL: 'http://bus:hunter2pw@nats:4222' }, /^NATS_URL must be .*, got "http:\/\/\[credentials\]@nats:4222"$/],
  ]
  for (const [env, message] of cases) {
    const err = t.throws(() => loadConfig(env)) as Error
    t.match(err.message, message, Object.keys(env).join(' '))
    t.notMatch(err.message, 'hunter2', 'the password is not printed')
  }
})

t.test('a TELEGRAM_WEBHOOK_SECRET Telegram would refuse (a base64 one, with spaces) stops the start without printing it', async (t) => {
  t.equal(loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'Abc_123-xyz' }).telegramWebhookSecret, 'Abc_123-xyz')
  for (const bad of ['q8Lr+Wx/9Zk2mN4pT7vB1cD3eF5gH6jK8lM0nP2rS4=', 'two words', 'x'.repeat(257)]) {
    const err = t.throws(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: bad })) as Error
    t.match(err.message, /^TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and -/)
    t.notMatch(err.message, bad.slice(0, 8), 'the secret is not printed')
  }
})
