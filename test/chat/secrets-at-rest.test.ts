import postgres from 'postgres'
import t from 'tap'
import { resealSecrets } from '../../src/chat/reseal.js'
import { SecretBox } from '../../src/chat/secret-box.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff, poll } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const BOT_TOKEN = '987654:SECRET-bot-token_xyz'
const KEY_A = 'key-A-key-A-key-A-key-A-key-A-key-A-0001'
const KEY_B = 'key-B-key-B-key-B-key-B-key-B-key-B-0002'

t.test('bot tokens, webhook secrets and generated server secrets are sealed in the database', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { WEBHOOK_ALLOW_PRIVATE: 'true' } })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const patched = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: { authorization: `Bearer ${admin.token}` }, payload: { telegram: { botToken: BOT_TOKEN, chatId: '-1001' } } })
  t.equal(patched.statusCode, 200)
  t.same(patched.json().data.site.telegram, { chatId: '-1001', botTokenSet: true, botTokenHint: '987654:…', anyMember: false }, 'only the bot id is shown')
  const hook = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: { authorization: `Bearer ${admin.token}` }, payload: { url: 'http://127.0.0.1:9/h' } })
  const { secret } = hook.json().data
  const [row] = await app.sql`select telegram_bot_token, telegram_bot_id from sites where id = ${site.id}`
  t.match(row?.telegram_bot_token, /^enc:v1:/)
  t.notMatch(row?.telegram_bot_token, /SECRET-bot-token/)
  t.equal(row?.telegram_bot_id, '987654')
  const [hookRow] = await app.sql`select secret from webhooks`
  t.match(hookRow?.secret, /^enc:v1:/)
  t.notMatch(hookRow?.secret, secret.slice(6))
  const settings = await app.sql`select key, value from app_settings where key in ('session_token_secret')`
  t.equal(settings.length, 1)
  for (const s of settings) t.match(s.value, /^enc:v1:/, s.key)
  const dump = JSON.stringify(await app.sql`select * from sites`) + JSON.stringify(await app.sql`select * from webhooks`)
  t.notMatch(dump, 'SECRET-bot-token', 'no plain copy anywhere')
  const listed = await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}/webhooks`, headers: { authorization: `Bearer ${admin.token}` } })
  t.equal(listed.json().data.webhooks[0].secretHint, `…${secret.slice(-4)}`, 'the hint is taken from the opened secret')
})

t.test('a server with another key refuses to start on the database, saying which setting is wrong', async (t) => {
  const databaseUrl = await freshDatabase()
  await buildTestApp(t, { databaseUrl, env: { SECRETS_KEY: KEY_A } }).then((app) => app.close())
  await t.rejects(buildTestApp(t, { databaseUrl, env: { SECRETS_KEY: KEY_B } }), { message: /SECRETS_KEY/ })
  // the refused server closed what it had opened (pool, LISTEN): nothing keeps its process alive
  const admin = postgres(process.env.TEST_DATABASE_URL ?? '', { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const name = new URL(databaseUrl).pathname.slice(1)
  await waitFor('the refused server\'s connections to close', async () => (await admin`select count(*)::int as n from pg_stat_activity where datname = ${name}`)[0]?.n === 0)
  t.pass('no connection left open by the refused server')
})

t.test('rotating SECRETS_KEY: the previous key opens old values until reseal-secrets seals them with the new one', async (t) => {
  const databaseUrl = await freshDatabase()
  const before = await buildTestApp(t, { databaseUrl, env: { SECRETS_KEY: KEY_A, WEBHOOK_ALLOW_PRIVATE: 'true' } })
  const admin = await makeStaff(before, 'admin')
  const site = await makeSite(before)
  await before.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: { authorization: `Bearer ${admin.token}` }, payload: { telegram: { botToken: BOT_TOKEN, chatId: '-1001' } } })
  const { secret } = (await before.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: { authorization: `Bearer ${admin.token}` }, payload: { url: 'http://127.0.0.1:9/h' } })).json().data
  const s = await makeSession(before, site, { firstMessage: 'before the rotation' })
  // a value an older release stored in plain text
  await before.sql`insert into app_settings (key, value) values ('jwt_secret', 'plain-old-generated-secret') on conflict do nothing`
  await before.close()

  const during = await buildTestApp(t, { databaseUrl, env: { SECRETS_KEY: KEY_B, SECRETS_KEY_PREVIOUS: KEY_A } })
  t.same((await poll(during, s)).map((m) => m.text), ['before the rotation'], 'old session tokens keep working during the rotation')
  const report = await resealSecrets(during.db, during.secretBox)
  t.same(report, { settings: 2, sites: 1, webhooks: 1 })
  t.same(await resealSecrets(during.db, during.secretBox), { settings: 0, sites: 0, webhooks: 0 }, 'a second run has nothing to do')
  await during.close()

  const after = await buildTestApp(t, { databaseUrl, env: { SECRETS_KEY: KEY_B } })
  t.same((await poll(after, s)).map((m) => m.text), ['before the rotation'], 'and after it, without the previous key')
  const box = new SecretBox([KEY_B])
  const [siteRow] = await after.sql`select telegram_bot_token from sites where id = ${site.id}`
  t.equal(box.open(String(siteRow?.telegram_bot_token), 'telegram-bot-token'), BOT_TOKEN)
  const [hookRow] = await after.sql`select secret from webhooks`
  t.equal(box.open(String(hookRow?.secret), 'webhook-secret'), secret)
  const [jwtRow] = await after.sql`select value from app_settings where key = 'jwt_secret'`
  t.equal(box.open(String(jwtRow?.value), 'setting'), 'plain-old-generated-secret')
  t.throws(() => new SecretBox([KEY_A]).open(String(hookRow?.secret), 'webhook-secret'), { message: /SECRETS_KEY/ }, 'the old key alone no longer opens it')
})

t.test('a sealed value is bound to its purpose and cannot be tampered with', async (t) => {
  const box = new SecretBox([KEY_A])
  const sealed = box.seal('whsec_abc', 'webhook-secret')
  t.not(box.seal('whsec_abc', 'webhook-secret'), sealed, 'a fresh IV each time')
  t.equal(box.open(sealed, 'webhook-secret'), 'whsec_abc')
  t.throws(() => box.open(sealed, 'telegram-bot-token'), 'moved to another column it does not open')
  const tampered = sealed.slice(0, -3) + (sealed.endsWith('A') ? 'BBB' : 'AAA')
  t.throws(() => box.open(tampered, 'webhook-secret'))
  t.equal(new SecretBox([]).seal('plain', 'setting'), 'plain', 'without a key values stay as given')
})

t.test('in production every configured secret must be at least 32 characters', async (t) => {
  const prod = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(32) }
  t.ok(loadConfig(prod))
  for (const name of ['JWT_SECRET', 'SECRETS_KEY', 'SITE_API_SECRET', 'TELEGRAM_WEBHOOK_SECRET', 'METRICS_TOKEN']) {
    t.throws(() => loadConfig({ ...prod, SITE_API_KEY: 'pk_x', [name]: 's'.repeat(31) }), { message: new RegExp(`${name} must be at least 32`) }, name)
  }
  t.ok(loadConfig({ JWT_SECRET: 's'.repeat(20) }), 'outside production 16 characters do')
})
