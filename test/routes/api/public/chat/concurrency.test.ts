import t from 'tap'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, type WireMessage } from '../../../../helpers/fixtures.js'

const SENDS = 48

t.test('concurrent visitor and agent sends through two instances: seq 1..N, createdAt strictly increasing, since/after exact', async (t) => {
  const one = await buildTestApp(t)
  const two = await buildTestApp(t) // a second instance on the same database
  const s = await makeSession(one, await makeSite(one))
  const agent = await makeStaff(one, 'agent', 'Olena')
  const sends = Array.from({ length: SENDS }, (_, i) => {
    const app = i % 2 === 0 ? one : two
    const request = i % 3 === 0 ? replyRequest(agent, s.id, `agent ${i}`) : sendRequest(s, { text: `visitor ${i}` })
    return app.inject(request)
  })
  const results = await Promise.all(sends)
  t.same(results.map((r) => r.statusCode), Array(SENDS).fill(201))

  const all = await poll(two, s, 'limit=200')
  t.same(all.map((m) => m.seq), Array.from({ length: SENDS }, (_, i) => i + 1), 'seq is 1..N without gaps')
  t.same(new Set(all.map((m) => m.text)).size, SENDS, 'every send stored once')
  const times = all.map((m) => Date.parse(m.createdAt))
  t.ok(times.every((ms, i) => i === 0 || ms > (times[i - 1] ?? Infinity)), 'createdAt strictly increases with seq')
  t.equal(all.filter((m) => m.sender === 'agent').length, SENDS / 3)

  const expectedAfter = (k: number) => all.slice(k).map((m) => m.id)
  const ids = (ms: WireMessage[]) => ms.map((m) => m.id)
  for (let k = 1; k <= SENDS; k++) {
    const app = k % 2 === 0 ? one : two
    const since = all[k - 1]?.createdAt ?? ''
    t.same(ids(await poll(app, s, `since=${encodeURIComponent(since)}&limit=200`)), expectedAfter(k), `since createdAt of ${k}`)
    t.same(ids(await poll(app, s, `after=${k}&limit=200`)), expectedAfter(k), `after=${k}`)
  }
})
