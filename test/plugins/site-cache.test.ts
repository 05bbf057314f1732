import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff, bearer, pollRequest } from '../helpers/fixtures.js'

// The site cache lives 5 s; another instance's rotation must reach it well before that.
const WAIT_MS = 2_000

t.test('a key rotated on one instance stops working on another at once (the site cache follows the event)', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const site = await makeSite(a)
  const s = await makeSession(a, site)
  t.equal((await b.inject(pollRequest(s))).statusCode, 200, 'b has the site cached')
  const admin = await makeStaff(a, 'admin')
  const rotated = await a.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/rotate`, headers: bearer(admin) })
  t.equal(rotated.statusCode, 200)
  t.equal((await a.inject(pollRequest(s))).statusCode, 401, 'the rotating instance forgets at once')
  const deadline = Date.now() + WAIT_MS
  let status = 0
  while (Date.now() < deadline && (status = (await b.inject(pollRequest(s))).statusCode) !== 401) await new Promise((r) => setTimeout(r, 20))
  t.equal(status, 401, 'the other instance refuses the old key')
})
