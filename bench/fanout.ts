/**
 * fanout: frames delivered per second to 1k/5k/10k dashboard sockets of one site as agents
 * reply, against a bare `ws` broadcast of the same payload to the same number of sockets.
 */
import { startSession } from '../src/chat/session-start.js'
import { createBenchSite, SETUP_OWNS, fail, HIGH_LIMITS, runBench, SETUP_EVENTS, sleep, startBenchDb, startServer, type Row } from './lib.js'
import { closeSockets, openSockets, post, staffToken } from './sockets.js'

const SOCKETS = (process.env.BENCH_SOCKETS ?? '1000,5000,10000').split(',').map(Number)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20)

/** Sends MESSAGES messages one after another and waits until every socket has every frame. */
async function deliver(n: number, url: string, post: (k: number) => Promise<void>, isOurs: (type: string) => boolean): Promise<number> {
  let received = 0
  const sockets = await openSockets(Array.from({ length: n }, () => url), (_i, frame) => { if (isOurs(frame.type)) received++ })
  const begin = performance.now()
  for (let k = 0; k < MESSAGES; k++) await post(k)
  const expected = n * MESSAGES
  for (let i = 0; i < 1200 && received < expected; i++) await sleep(25)
  const seconds = (performance.now() - begin) / 1000
  await closeSockets(sockets)
  if (received < expected) fail(`${expected - received} of ${expected} frames missing after 30 s`)
  return received / seconds
}

await runBench('fanout', async () => {
const db = await startBenchDb()
try {
  const site = await createBenchSite(db)
  const { session } = await startSession(db.handle.db, SETUP_EVENTS, site, { userSessionId: 'bench-visitor' }, SETUP_OWNS)
  const rows: Row[] = []
  for (const n of SOCKETS) {
    const app = await startServer('serve-app.ts', { BENCH_DB_URL: db.url, ...HIGH_LIMITS })
    const jwt = await staffToken(app.port, db.handle.db)
    const ours = await deliver(n, `ws://127.0.0.1:${app.port}/api/chat/ws?token=${jwt}`, (k) =>
      post(`http://127.0.0.1:${app.port}/api/chat/sessions/${session.id}/messages`, { authorization: `Bearer ${jwt}` }, JSON.stringify({ text: `fanout ${k}` })),
    (type) => type === 'message.created')
    await app.stop()
    const bare = await startServer('serve-ws-baseline.ts', {})
    const baseline = await deliver(n, `ws://127.0.0.1:${bare.port}/ws/all`, (k) => post(`http://127.0.0.1:${bare.port}/broadcast`, {},
      JSON.stringify({ type: 'message.created', message: { id: crypto.randomUUID(), sessionId: session.id, seq: k + 1, sender: 'agent', senderName: 'Bench Agent', text: `fanout ${k}`, createdAt: new Date().toISOString() } })),
    (type) => type === 'message.created')
    await bare.stop()
    rows.push({ name: `${n} dashboards`, value: ours, baseline, baselineName: 'bare ws broadcast', unit: 'frames/s', target: { op: '≥', ratio: 0.7 } })
  }
  return {
    title: `fanout: ${MESSAGES} replies, each to every dashboard socket`,
    rows,
    note: 'Ours includes storing each reply; frames/s = sockets × messages / time until the last frame arrived.',
  }
} finally {
  await db.stop()
}
})
