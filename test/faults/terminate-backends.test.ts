import t from 'tap'
import postgres from 'postgres'
import { fileDatabaseUrl } from '../helpers/app.js'
import { uniq } from '../helpers/fixtures.js'
import { callUntilAnswered, fetchJson } from '../helpers/http.js'
import { assertAllAlive, startInstances, stopAll, waitForTelegramOnce } from '../helpers/instances.js'
import { ResumingSocket } from '../helpers/sockets.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'
import { waitFor } from '../helpers/wait.js'
import { LISTENER_APP_NAME } from '../../src/realtime/postgres-bus.js'
import { LOCKS_APP_NAME } from '../../src/jobs/locks.js'

/**
 * Two instances (`src/server.ts` processes, default settings) under load while every one of
 * their backends is terminated, several times: the pool's, the Telegram reader's lock
 * connection and the LISTEN connection. Unpatched postgres.js ended a process here.
 */

const KILL_ROUNDS = 3
const VISITORS = 3
const SENDS_PER_VISITOR = 20

t.test('terminating every backend of two instances under load loses nothing, duplicates nothing, and kills no process', async (t) => {
  const databaseUrl = await fileDatabaseUrl()
  const bot = await startBotApi(t)
  const { servers, siteKey, siteSecret, chatId } = await startInstances(t, databaseUrl, bot)
  const [a, b] = servers.map((s) => s.api) as [string, string]
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())

  const visitors = await Promise.all(Array.from({ length: VISITORS }, async (_, i) => {
    const res = await fetchJson(a, 'POST', '/api/public/chat/sessions', {
      headers: { 'x-api-key': siteKey, 'x-api-secret': siteSecret }, body: { userSessionId: uniq('visitor-'), firstMessage: `first ${i}` },
    })
    return { id: String(res.body.data?.sessionId), token: String(res.body.data?.token) }
  }))
  const wsUrl = (base: string, v: { id: string; token: string }) => (after: number) =>
    `${base.replace('http', 'ws')}/api/public/chat/sessions/${v.id}/ws?apiKey=${siteKey}&token=${v.token}&after=${after}`
  const sockets = await Promise.all(visitors.flatMap((v) => [ResumingSocket.open(t, wsUrl(a, v)), ResumingSocket.open(t, wsUrl(b, v))]))

  // Kinds of backend to kill; each must be there (back) before a round.
  const kinds = async () => {
    const rows = await admin<{ app: string; n: number }[]>`
      select application_name as app, count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() group by 1`
    return Object.fromEntries(rows.map((r) => [r.app, r.n])) as Record<string, number>
  }
  const killed: Record<string, number>[] = []
  let sending = true
  const killer = (async () => {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      let seen: Record<string, number> = {}
      await waitFor('both instances to have pooled, lock and LISTEN connections again', async () => {
        const k = seen = await kinds()
        return (k.livechat ?? 0) >= 2 && (k[LISTENER_APP_NAME] ?? 0) >= 2 && (k[LOCKS_APP_NAME] ?? 0) >= 2
      }, 20_000).catch((err: Error) => {
        throw new Error(`${err.message} before round ${round}; connections: ${JSON.stringify(seen)}`)
      })
      const rows = await admin<{ app: string }[]>`
        select application_name as app, pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`
      const byKind: Record<string, number> = {}
      for (const r of rows) byKind[r.app] = (byKind[r.app] ?? 0) + 1
      killed.push(byKind)
      await new Promise((r) => setTimeout(r, 400))
    }
  })()
  // each visitor sends through both instances, retrying as the widget does (same clientMessageId)
  const texts: string[] = []
  const senders = visitors.map(async (v, i) => {
    for (let n = 0; n < SENDS_PER_VISITOR; n++) {
      const text = `v${i} m${n} ${uniq()}`
      texts.push(text)
      const res = await callUntilAnswered(n % 2 ? a : b, 'POST', `/api/public/chat/sessions/${v.id}/messages`, {
        headers: { 'x-api-key': siteKey, 'x-session-token': v.token }, body: { text, clientMessageId: `c-${n}` },
      })
      if (res.status !== 201) t.fail(`a send was answered ${res.status}`)
    }
  })
  // new conversations (a transaction each) while backends die
  const starts = (async () => {
    let started = 0
    while (sending && started < 30) {
      const res = await callUntilAnswered(started % 2 ? a : b, 'POST', '/api/public/chat/sessions', {
        headers: { 'x-api-key': siteKey, 'x-api-secret': siteSecret }, body: { userSessionId: `starter-${started}`, firstMessage: 'hello' },
      })
      if (res.status !== 201 && res.status !== 200) t.fail(`a session start was answered ${res.status}`)
      started++
    }
  })()
  await Promise.all([killer, ...senders])
  sending = false
  await starts

  t.equal(killed.length, KILL_ROUNDS)
  for (const k of killed) {
    // jobs holding a lock (Telegram reader, retention, auto-assignment) may each have their own lock connection
    t.ok((k.livechat ?? 0) >= 2 && k[LISTENER_APP_NAME] === 2 && (k[LOCKS_APP_NAME] ?? 0) >= 2, `pooled, LISTEN and lock backends of both instances killed: ${JSON.stringify(k)}`)
  }

  const lastSeq = SENDS_PER_VISITOR + 1
  for (const [i, v] of visitors.entries()) {
    const res = await callUntilAnswered(a, 'GET', `/api/public/chat/sessions/${v.id}/messages?limit=200`, { headers: { 'x-api-key': siteKey, 'x-session-token': v.token } })
    const stored = (res.body.data?.messages as { seq: number; text: string }[]).map((m) => m.seq)
    t.same(stored, Array.from({ length: lastSeq }, (_, n) => n + 1), `visitor ${i}: every send stored once, in order`)
  }
  for (const [i, socket] of sockets.entries()) {
    await socket.waitForSeq(lastSeq, 15_000).catch(() => undefined)
    t.same(socket.seqs, Array.from({ length: lastSeq }, (_, n) => n + 1), `socket ${i}: every message once, in order`)
    t.same(socket.closeCodes.filter((c) => c !== 1012 && c !== 1013), [], `socket ${i} closed only with reconnect codes (${socket.closeCodes.join(',') || 'never'})`)
  }
  await waitForTelegramOnce(t, bot, chatId, texts)
  for (const s of servers) t.equal((await fetchJson(s.api, 'GET', '/healthz')).status, 200)
  await assertAllAlive(t, servers)
  await stopAll(t, servers)
})
