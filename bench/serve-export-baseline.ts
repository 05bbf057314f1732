// Baseline for bench:export: a bare node:http server streaming the same NDJSON lines straight
// from a postgres.js cursor (each message's JSON written by Postgres, as the product's), with
// back-pressure, without auth, limits, audit or paging.
import { createServer } from 'node:http'
import postgres from 'postgres'

const sql = postgres(process.env.BENCH_DB_URL ?? '', { max: 2, onnotice: () => {} })

const server = createServer((req, res) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams
  const siteId = query.get('siteId') ?? ''
  // the product's from (inclusive) / to (exclusive) on createdAt: the bench's warm-up asks for an
  // empty range, which must stay empty here too, or this server would warm up on the whole export
  const from = query.get('from')
  const to = query.get('to')
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' })
  const write = (text: string) => (res.write(text) ? undefined : new Promise((resolve) => res.once('drain', resolve)))
  void (async () => {
    const sessions = await sql<{ id: string; line: string }[]>`
      select id, json_build_object('id', id, 'userSessionId', user_session_id, 'status', status, 'createdAt', created_at)::text as line
      from chat_sessions where site_id = ${siteId} ${from ? sql`and created_at >= ${new Date(from)}` : sql``} ${to ? sql`and created_at < ${new Date(to)}` : sql``}
      order by created_at, id`
    for (const s of sessions) {
      await write(`{"session":${s.line},"messages":[`)
      let first = true
      for await (const rows of sql<{ m: string }[]>`
        select json_build_object('id', id, 'sessionId', session_id, 'seq', seq, 'sender', sender, 'senderName', sender_name, 'text', text,
          'clientMessageId', client_message_id, 'attachments', coalesce(attachments, '[]'::jsonb), 'createdAt', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text as m
        from chat_messages where session_id = ${s.id} order by seq`.cursor(100)) {
        await write((first ? '' : ',') + rows.map((r) => r.m).join(','))
        first = false
      }
      await write('],"notes":[]}\n')
    }
    res.end()
  })().catch((err: unknown) => res.destroy(err as Error))
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }))
})
process.on('SIGTERM', () => server.close(() => void sql.end().then(() => process.exit(0))))
