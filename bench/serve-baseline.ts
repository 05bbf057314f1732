// Baselines: the same durable work as the product's routes, done the barest correct way: a
// bare Fastify app with postgres.js, no plugins, no schemas, no hooks.
//   GET  /poll/:id?since=  one indexed select of the session's newest messages, no auth
//   POST /send/:id         checks X-Session-Token (the product's HMAC), then stores the
//                          message with its seq and clientMessageId in one statement
//                          (store-message.ts; a repeat fails on the unique index: no retry
//                          handling, the bench sends fresh ids)
import Fastify from 'fastify'
import postgres from 'postgres'
import { sessionTokenMatches } from '../src/chat/session-tokens.js'
import { benchSecretBox } from './lib.js'
import { storeMessage } from './store-message.js'

const sql = postgres(process.env.BENCH_DB_URL ?? '', { max: Number(process.env.DB_POOL_SIZE ?? 10), onnotice: () => {} })
const [setting] = await sql<{ value: string }[]>`select value from app_settings where key = 'session_token_secret'`
// stored sealed, as every secret setting (chat/secret-box.ts)
const tokenSecret = setting ? benchSecretBox.open(setting.value, 'setting') : ''
const app = Fastify({ logger: false })

app.get<{ Params: { id: string }; Querystring: { since?: string } }>('/poll/:id', async (req) => {
  const messages = await sql`
    select id, session_id as "sessionId", seq, sender, sender_name as "senderName", text, created_at as "createdAt"
    from chat_messages where session_id = ${req.params.id} and created_at > ${req.query.since ?? '-infinity'}
    order by seq limit 100`
  return { success: true, data: { messages } }
})

app.post<{ Params: { id: string }; Body: { text: string; clientMessageId?: string } }>('/send/:id', async (req, reply) => {
  const token = req.headers['x-session-token']
  if (typeof token !== 'string' || !sessionTokenMatches(tokenSecret, req.params.id, token)) {
    return reply.code(401).send({ success: false, error: { code: 'UNAUTHORIZED', message: 'Wrong session token' } })
  }
  const [message] = await storeMessage(sql, req.params.id, 'visitor', req.body.text, req.body.clientMessageId ?? null)
  if (!message) return reply.code(404).send({ success: false, error: { code: 'NOT_FOUND', message: 'Session not found' } })
  return reply.code(201).send({ success: true, data: { message } })
})

await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
process.on('SIGTERM', () => void app.close().then(() => sql.end()).then(() => process.exit(0)))
