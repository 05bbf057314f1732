// Baselines: a bare Fastify route with postgres.js doing the same indexed SELECT as the
// polling route, without auth, schemas or plugins.
import Fastify from 'fastify'
import postgres from 'postgres'

const sql = postgres(process.env.BENCH_DB_URL ?? '', { max: 10, onnotice: () => {} })
const app = Fastify({ logger: false })
app.get<{ Params: { id: string }; Querystring: { since?: string } }>('/poll/:id', async (req) => {
  const messages = await sql`
    select id, session_id as "sessionId", seq, sender, sender_name as "senderName", text, created_at as "createdAt"
    from chat_messages where session_id = ${req.params.id} and created_at > ${req.query.since ?? '-infinity'}
    order by seq limit 100`
  return { success: true, data: { messages } }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
process.on('SIGTERM', () => void app.close().then(() => sql.end()).then(() => process.exit(0)))
