import t from 'tap'
import { sql } from 'drizzle-orm'
import { sessionsOutboxDeleteSql, undeliveredCountSql } from '../../src/outbox/store.js'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Growth is bounded: the retention job prunes outbox rows finished (delivered or given up)
 * longer than DELIVERED_RETENTION_DAYS (30) ago and Telegram message links as old; what is
 * on its way or recent stays.
 */
t.test('the retention job prunes finished outbox rows, Telegram links and webhook update marks past their age, nothing else', async (t) => {
  const app = await buildTestApp(t, { env: { METRICS_TOKEN: 'metrics-token-for-this-test-0123456789' } })
  // the round every instance runs at start is over once a round of our own gets the job's lock
  await waitFor('a round of the test\'s own', () => app.retention.runOnce())
  t.equal(app.config.privacy.deliveredRetentionDays, 30, 'kept 30 days by default')
  const s = await makeSession(app, await makeSite(app))
  const { sql: raw } = app
  const outboxRow = (status: string, finishedDaysAgo: number | null, createdDaysAgo: number) => raw`
    insert into outbox (site_id, channel, session_id, kind, payload, status, done_at, created_at)
    values (${s.site.id}, 'telegram', ${s.id}, ${`test.${status}.${finishedDaysAgo}`}, '{}'::jsonb, ${status},
            ${finishedDaysAgo === null ? null : raw`now() - make_interval(days => ${finishedDaysAgo})`}, now() - make_interval(days => ${createdDaysAgo}))`
  await outboxRow('done', 31, 31)
  await outboxRow('failed', 31, 32)
  await outboxRow('done', 29, 40)
  // on its way for longer than the age (a long outage): never pruned
  await outboxRow('pending', null, 40)
  const link = (messageId: number, daysAgo: number) => raw`
    insert into telegram_messages (chat_id, message_id, site_id, session_id, created_at) values ('-100', ${messageId}, ${s.site.id}, ${s.id}, now() - make_interval(days => ${daysAgo}))`
  await link(1, 31)
  await link(2, 29)
  // webhook-mode update marks: kept while Telegram may redeliver (a day), pruned after two
  const mark = (updateId: number, hoursAgo: number) => raw`
    insert into app_settings (key, value, updated_at) values (${`telegram_update:123456:${updateId}`}, 'handled', now() - make_interval(hours => ${hoursAgo}))`
  await mark(1, 49)
  await mark(2, 47)

  const result = await app.retention.runOnce()
  t.match(result, { outboxRows: 2, telegramLinks: 1 })
  const kinds = await raw<{ kind: string }[]>`select kind from outbox where session_id = ${s.id} and kind like 'test.%' order by kind`
  t.same(kinds.map((r) => r.kind), ['test.done.29', 'test.pending.null'])
  const links = await raw<{ message_id: string }[]>`select message_id::text from telegram_messages where session_id = ${s.id}`
  t.same(links.map((r) => r.message_id), ['2'])
  const marks = await raw<{ key: string }[]>`select key from app_settings where key like 'telegram_update:%'`
  t.same(marks.map((r) => r.key), ['telegram_update:123456:2'])
  const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-for-this-test-0123456789' } })
  t.match(metrics.body, /retention_last_run\{figure="outbox_rows"\} 2/, 'the last run\'s count is in /metrics')
})

t.test('a retention erasure leaves a record for the realtime sweep; the job prunes records older than an hour', async (t) => {
  const app = await buildTestApp(t)
  await waitFor('a round of the test\'s own', () => app.retention.runOnce())
  const { sql: raw } = app
  const site = await makeSite(app)
  const expired = await makeSession(app, site)
  await raw`update sites set retention_days = 1 where id = ${site.id}`
  await raw`update chat_sessions set status = 'closed', closed_at = now() - interval '2 days' where id = ${expired.id}`
  const stale = await makeSession(app, site)
  await raw`insert into recent_erasures (site_id, session_id, erased_at) values (${site.id}, ${stale.id}, now() - interval '61 minutes')`
  t.match(await app.retention.runOnce(), { sessions: 1 })
  const records = await raw<{ session_id: string; site_id: string }[]>`select session_id, site_id from recent_erasures where site_id = ${site.id}`
  t.same(records, [{ session_id: expired.id, site_id: site.id }], 'the erased session recorded, the stale record gone')
})

t.test('the /metrics outbox count, the pruning, erasure and the send\'s webhook lookup have indexes to use', async (t) => {
  const app = await buildTestApp(t)
  const plans = await app.db.transaction(async (tx) => {
    // on a tiny table a sequential scan is cheaper; the question is whether an index can serve
    await tx.execute(sql`set local enable_seqscan = off`)
    const plan = async (query: ReturnType<typeof sql>) => (await tx.execute<{ 'QUERY PLAN': string }>(sql`explain ${query}`)).map((r) => r['QUERY PLAN']).join('\n')
    return {
      metrics: await plan(undeliveredCountSql),
      outbox: await plan(sql`select id from outbox where status <> 'pending' and done_at < now() - interval '30 days' limit 1000`),
      links: await plan(sql`select chat_id, message_id from telegram_messages where created_at < now() - interval '30 days' limit 1000`),
      webhooks: await plan(sql`select id from webhooks where site_id = '00000000-0000-4000-8000-000000000000' and active`),
      erasure: await plan(sessionsOutboxDeleteSql('{00000000-0000-4000-8000-000000000000}', '{00000000-0000-4000-8000-000000000001}')),
    }
  })
  // the two counts /metrics makes (outbox_rows), through indexes the rows need anyway or that no send writes
  t.match(plans.metrics, /outbox_due_idx/)
  t.match(plans.metrics, /outbox_failed_idx/)
  t.match(plans.outbox, /outbox_finished_idx/)
  t.match(plans.links, /telegram_messages_created_idx/)
  t.match(plans.webhooks, /webhooks_site_idx/, 'every send looks up its site\'s webhooks')
  // erasure finds a session's rows of every status through two indexes, only one of which a send's (pending) rows enter
  t.match(plans.erasure, /outbox_due_idx/, plans.erasure)
  t.match(plans.erasure, /outbox_session_finished_idx/)
  t.notMatch(plans.erasure, /Seq Scan/)
})
