/**
 * send: visitor POST .../messages through the whole product, msgs/s at concurrency 8 and 32
 * over 32 sessions (worker k writes sessions k, k+c, …), the site with Telegram and one
 * webhook configured so that every message also writes its outbox rows. Every message carries a
 * fresh clientMessageId, as the widget and packages/client send one with every message (safe
 * retries); every contender stores it under the same unique index. Baselines, same run,
 * same load generator and database:
 *   bare route  a bare Fastify route that checks the session token and stores the message
 *               with its seq in one statement (bench/serve-baseline.ts)
 *   raw loop    the same statement in a postgres.js loop, no HTTP
 * The product runs twice: with the Postgres bus (after-commit NOTIFY) and, when nats-server
 * is installed, with NATS. Short rounds alternate (A B C D, D C B A, …) so drift in the
 * machine's load hits every contender alike.
 */
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { sql as dsql } from 'drizzle-orm'
import { createSite } from '../src/chat/sites.js'
import { createWebhook } from '../src/outbox/webhooks.js'
import { commandPath } from '../scripts/system-requirements.js'
import { startNatsServer } from '../scripts/nats-server.js'
import { benchSecretBox, fail, HIGH_LIMITS, runBench, startBenchDb, startServer, type Row, type Server } from './lib.js'
import { closedLoop, startSink } from './load.js'
import { makeSessions } from './sockets.js'
import { storeMessage } from './store-message.js'

// short rounds, many of them, alternating: the machine's load drifts within seconds
const ROUND_MS = 2000
const ROUNDS = Math.max(2, Math.round(Number(process.env.BENCH_DURATION_S ?? 8) / (ROUND_MS / 1000)))
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '8,32').split(',').map(Number)
const SESSIONS = 32
// four pools of this size (two products, the bare route, the raw loop) stay under Postgres's 100 connections
const POOL = '16'
const TEXT = 'Hello, I would like to know the price of delivery to Kyiv, please.'

await runBench('send', async () => {
  const db = await startBenchDb()
  const sink = await startSink()
  const servers: Server[] = []
  let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined
  try {
    const { site } = await createSite(db.handle.db, benchSecretBox, {
      name: 'bench', origins: ['*'], telegramBotToken: '123456:bench-token', telegramChatId: '-100123',
    })
    await createWebhook(db.handle.db, benchSecretBox, { allowPrivate: true }, site.id, `${sink.url}/hook`, ['message.created'])
    const sessions = await makeSessions(db.handle.db, site.id, SESSIONS)
    const product = {
      ...HIGH_LIMITS, BENCH_DB_URL: db.url, DB_POOL_SIZE: POOL, TELEGRAM_API_URL: sink.url, WEBHOOK_ALLOW_PRIVATE: 'true',
      // the rows are written by the send; their delivery (a worker, after the reply) is not this
      // bench's figure: the measured instances are web-only, as in a split deployment (README, Scaling out)
      OUTBOX_DELIVERY: 'false',
    }
    const postgresBus = await startServer('serve-app.ts', { ...product, REALTIME_BUS: 'postgres' })
    servers.push(postgresBus)
    nats = commandPath('nats-server') ? await startNatsServer() : undefined
    const natsBus = nats ? await startServer('serve-app.ts', { ...product, REALTIME_BUS: 'nats', NATS_URL: nats.url }) : undefined
    if (natsBus) servers.push(natsBus)
    const bare = await startServer('serve-baseline.ts', { BENCH_DB_URL: db.url, DB_POOL_SIZE: POOL })
    servers.push(bare)

    const productLoad = (server: Server) => (c: number, ms: number) => closedLoop(`http://127.0.0.1:${server.port}`, c, ms, (k, j) => {
      const s = sessions[(k + j * c) % SESSIONS]
      return {
        method: 'POST', path: `/api/public/chat/sessions/${s?.id}/messages`, body: JSON.stringify({ text: TEXT, clientMessageId: randomUUID() }),
        headers: { 'x-api-key': site.apiKey, 'x-session-token': s?.token ?? '', 'content-type': 'application/json' },
      }
    })
    const bareLoad = (c: number, ms: number) => closedLoop(`http://127.0.0.1:${bare.port}`, c, ms, (k, j) => {
      const s = sessions[(k + j * c) % SESSIONS]
      return { method: 'POST', path: `/send/${s?.id}`, body: JSON.stringify({ text: TEXT, clientMessageId: randomUUID() }), headers: { 'x-session-token': s?.token ?? '', 'content-type': 'application/json' } }
    })
    const raw = postgres(db.url, { max: Number(POOL), onnotice: () => {} })
    const rawLoop = async (c: number, ms: number) => {
      let count = 0
      const begin = performance.now()
      await Promise.all(Array.from({ length: c }, async (_, k) => {
        for (let j = 0; performance.now() - begin < ms; j++) {
          const s = sessions[(k + j * c) % SESSIONS]
          const rows = await storeMessage(raw, s?.id ?? '', 'visitor', TEXT, randomUUID())
          if (rows.length !== 1) fail('the raw loop stored nothing')
          count++
        }
      }))
      return count / ((performance.now() - begin) / 1000)
    }

    type Contender = { name: string; run: (c: number, ms: number) => Promise<number> }
    const contenders: Contender[] = [
      { name: 'product, Postgres bus', run: productLoad(postgresBus) },
      ...(natsBus ? [{ name: 'product, NATS bus', run: productLoad(natsBus) }] : []),
      { name: 'bare route', run: bareLoad },
      { name: 'raw loop', run: rawLoop },
    ]
    // warm up: JIT, prepared statements, pools
    for (const x of contenders) await x.run(8, 1000)

    const rows: Row[] = []
    for (const c of CONCURRENCY) {
      const rates = new Map<string, number[]>()
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? contenders : [...contenders].reverse()
        for (const x of order) rates.set(x.name, [...(rates.get(x.name) ?? []), await x.run(c, ROUND_MS)])
      }
      const mean = (name: string) => { const r = rates.get(name) ?? []; return r.reduce((a, b) => a + b, 0) / r.length }
      const bareRate = mean('bare route')
      rows.push({ name: `c=${c}, Postgres bus`, value: mean('product, Postgres bus'), baseline: bareRate, baselineName: 'bare route', unit: 'msg/s', target: { op: '≥', ratio: 0.8 } })
      if (natsBus) rows.push({ name: `c=${c}, NATS bus`, value: mean('product, NATS bus'), baseline: bareRate, baselineName: 'bare route', unit: 'msg/s', target: { op: '≥', ratio: 0.9 } })
      rows.push({ name: `c=${c}, Postgres bus vs raw loop`, value: mean('product, Postgres bus'), baseline: mean('raw loop'), baselineName: 'raw loop, no HTTP', unit: 'msg/s' })
    }
    await raw.end()

    const [outbox] = await db.handle.db.execute<{ webhook: number; telegram: number; undelivered: number; messages: number }>(dsql`
      select (select count(*)::int from outbox where channel = 'webhook') as webhook,
             (select count(*)::int from outbox where status = 'pending' and attempts = 0) as undelivered,
             (select count(*)::int from outbox where channel = 'telegram') as telegram,
             (select count(*)::int from chat_messages m join chat_sessions s on s.id = m.session_id where m.sender = 'visitor') as messages`)
    // the product's messages each wrote two outbox rows; the baselines' wrote none
    if (!outbox || outbox.webhook === 0 || outbox.webhook !== outbox.telegram) fail(`outbox rows were not written with every product message: ${JSON.stringify(outbox)}`)
    if (outbox.undelivered !== outbox.webhook + outbox.telegram) fail(`the web-only instances delivered outbox rows: ${JSON.stringify(outbox)}`)
    return {
      title: `send: visitor messages over ${SESSIONS} sessions, Telegram + 1 webhook configured, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s per figure`,
      rows,
      note: `Every product message also wrote its two outbox rows (${outbox.webhook} webhook + ${outbox.telegram} Telegram rows); the measured instances run without the delivery worker (OUTBOX_DELIVERY=false, web-only as in a split deployment), and every row was left for a delivering instance. ` +
        `Every message of every contender carries a fresh clientMessageId (as the widget's), stored under the same unique index. ` +
        `Baselines: a bare Fastify route (token check + one statement) and the raw statement in a loop.${nats ? '' : ' nats-server not installed: no NATS row.'}`,
    }
  } finally {
    for (const s of servers) await s.stop()
    await nats?.kill()
    await sink.stop()
    await db.stop()
  }
})
