import t from 'tap'
import { Throttle } from '../../src/realtime/typing.js'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff } from '../helpers/fixtures.js'
import { dashboardUrl, listen, openDashboard, openSocket, widgetUrl } from '../helpers/sockets.js'
import { waitFor } from '../helpers/wait.js'

t.test('the visitor typing reaches dashboards on every instance; the agent typing reaches the widget with the agent\'s name', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const staff = await makeStaff(a, 'agent', 'Olena')
  const s = await makeSession(a, await makeSite(a))
  const widget = await openSocket(t, widgetUrl(await listen(a), s))
  const dashboardB = await openDashboard(t, await listen(b), staff)
  const dashboardA = await openDashboard(t, await listen(a), staff)
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  widget.send({ type: 'typing' })
  await dashboardB.waitUntil('typing on B', () => dashboardB.ofType('typing').length > 0)
  await dashboardA.waitUntil('typing on A', () => dashboardA.ofType('typing').length > 0)
  t.same(dashboardB.ofType('typing'), [{ type: 'typing', sessionId: s.id, sender: 'visitor' }])
  dashboardB.send({ type: 'typing', sessionId: s.id })
  await widget.waitUntil('agent typing', () => widget.ofType('typing').length > 0)
  t.same(widget.ofType('typing'), [{ type: 'typing', sender: 'agent', name: 'Olena' }])
  t.equal(dashboardA.ofType('typing').length, 1, 'an agent\'s typing is not sent to dashboards')
})

t.test('typing is throttled to one event per 2 s per sender and session, and never stored', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app))
  const widget = await openSocket(t, widgetUrl(base, s))
  const second = await openSocket(t, widgetUrl(base, s))
  const dashboard = await openDashboard(t, base, staff)
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  const [before] = await app.sql`select count(*)::int as n from chat_messages where session_id = ${s.id}`
  const started = Date.now()
  for (let i = 0; i < 20; i++) {
    widget.send({ type: 'typing' })
    second.send({ type: 'typing' })
  }
  await dashboard.waitUntil('first typing', () => dashboard.ofType('typing').length > 0)
  // wait for a marker sent after the burst: everything of the burst has been handled by then
  widget.send({ type: 'ping' })
  await widget.waitUntil('pong', () => widget.ofType('pong').length > 0)
  await new Promise((r) => setTimeout(r, 300))
  const intervals = Math.ceil((Date.now() - started) / 2000)
  t.ok(dashboard.ofType('typing').length <= intervals, `40 frames from two tabs: at most one event per 2 s (${dashboard.ofType('typing').length} in ${intervals} interval(s))`)
  await waitFor('the next interval', () => Date.now() - started > 2100)
  widget.send({ type: 'typing' })
  await dashboard.waitUntil('second typing', () => dashboard.ofType('typing').length === 2)
  t.pass('a new event after 2 s')
  const [after] = await app.sql`select count(*)::int as n from chat_messages where session_id = ${s.id}`
  t.same(after, before, 'no row written')
})

t.test('an agent typing in an unknown session gets an error frame; bad frames too', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const dashboard = await openSocket(t, dashboardUrl(await listen(app), staff))
  dashboard.send({ type: 'typing', sessionId: '00000000-0000-4000-8000-000000000000' })
  dashboard.send({ type: 'typing', sessionId: 'nope' })
  dashboard.send({ type: 'typing' })
  dashboard.send({ type: 'typing', sessionId: 'x', extra: 1 })
  await dashboard.waitUntil('four errors', () => dashboard.ofType('error').length === 4)
  t.same(dashboard.ofType('error').map((f) => f.error?.code).sort(), ['NOT_FOUND', 'NOT_FOUND', 'VALIDATION_ERROR', 'VALIDATION_ERROR'])
})

t.test('an agent typing in a session of a site they do not work on gets NOT_FOUND and the visitor sees nothing', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const siteA = await makeSite(app)
  const siteB = await makeSite(app)
  const s = await makeSession(app, siteB)
  const agent = await makeStaff(app, 'agent', 'Olena', [siteA.id])
  const colleague = await makeStaff(app, 'agent', 'Taras', [siteB.id])
  const widget = await openSocket(t, widgetUrl(base, s))
  const dashboard = await openSocket(t, dashboardUrl(base, agent))
  const own = await openDashboard(t, base, colleague)
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  dashboard.send({ type: 'typing', sessionId: s.id })
  await dashboard.waitUntil('an error', () => dashboard.ofType('error').length > 0)
  t.same(dashboard.ofType('error').map((f) => f.error?.code), ['NOT_FOUND'])
  // the bus keeps one instance's order: had the refused frame been published, it would arrive before this one
  own.send({ type: 'typing', sessionId: s.id })
  await widget.waitUntil('the site\'s own agent typing', () => widget.ofType('typing').length > 0)
  t.same(widget.ofType('typing').map((f) => f.name), ['Taras'], 'another site\'s visitor never sees the agent\'s name')
})

t.test('typing reaches only the sockets of its session', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const base = await listen(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const other = await makeSession(app, site)
  const mine = await openSocket(t, widgetUrl(base, s))
  const theirs = await openSocket(t, widgetUrl(base, other))
  const dashboard = await openSocket(t, dashboardUrl(base, staff))
  await mine.waitUntil('session frame', () => mine.ofType('session').length > 0)
  await theirs.waitUntil('session frame', () => theirs.ofType('session').length > 0)
  dashboard.send({ type: 'typing', sessionId: s.id })
  await mine.waitUntil('typing', () => mine.ofType('typing').length > 0)
  theirs.send({ type: 'ping' })
  await theirs.waitUntil('pong', () => theirs.ofType('pong').length > 0)
  t.equal(theirs.ofType('typing').length, 0)
})

t.test('the throttle lets one event per key through each interval and forgets quiet senders', async (t) => {
  let now = 0
  const throttle = new Throttle(2000, () => now)
  t.ok(throttle.allow('a'))
  t.notOk(throttle.allow('a'))
  t.ok(throttle.allow('b'), 'another key')
  now = 1999
  t.notOk(throttle.allow('a'))
  now = 2000
  t.ok(throttle.allow('a'))
  for (let i = 0; i < 20_000; i++) throttle.allow(`k${i}`)
  now = 10_000
  t.ok(throttle.allow('a'), 'still works after pruning')
})

t.test('an agent typing with the session id in upper case reaches the widget (the REST routes take it too)', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app, 'agent', 'Olena')
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app))
  const widget = await openSocket(t, widgetUrl(base, s))
  const dashboard = await openDashboard(t, base, staff)
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  dashboard.send({ type: 'typing', sessionId: s.id.toUpperCase() })
  await widget.waitUntil('agent typing', () => widget.ofType('typing').length > 0)
  t.same(widget.ofType('typing'), [{ type: 'typing', sender: 'agent', name: 'Olena' }])
})

t.test('a dashboard socket types as its user is now: removed from the site\'s team on another instance it gets NOT_FOUND, renamed it shows the new name', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const base = await listen(a)
  const siteA = await makeSite(a)
  const siteB = await makeSite(a)
  const s = await makeSession(a, siteA)
  const admin = await makeStaff(a, 'admin')
  const leaving = await makeStaff(a, 'agent', 'Olena', [siteA.id])
  const renamed = await makeStaff(a, 'agent', 'Taras', [siteA.id])
  const widget = await openSocket(t, widgetUrl(base, s))
  const leavingSocket = await openDashboard(t, base, leaving)
  const renamedSocket = await openDashboard(t, base, renamed)
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  // both changes are made on the other instance; the sockets here hear of them on the bus
  t.equal((await b.inject({ method: 'PATCH', url: `/api/admin/users/${leaving.id}`, headers: bearer(admin), payload: { siteIds: [siteB.id] } })).statusCode, 200)
  t.equal((await b.inject({ method: 'PATCH', url: `/api/admin/users/${renamed.id}`, headers: bearer(admin), payload: { name: 'Taras K.' } })).statusCode, 200)
  await leavingSocket.waitUntil('user.updated', () => leavingSocket.ofType('user.updated').length > 0)
  await renamedSocket.waitUntil('user.updated', () => renamedSocket.ofType('user.updated').length > 0)
  leavingSocket.send({ type: 'typing', sessionId: s.id })
  await leavingSocket.waitUntil('an error', () => leavingSocket.ofType('error').length > 0)
  t.same(leavingSocket.ofType('error').map((f) => f.error?.code), ['NOT_FOUND'], 'no longer on the site: as if the session did not exist')
  // the bus keeps one instance's order: had the refused frame been published, it would arrive before this one
  renamedSocket.send({ type: 'typing', sessionId: s.id })
  await widget.waitUntil('agent typing', () => widget.ofType('typing').length > 0)
  t.same(widget.ofType('typing'), [{ type: 'typing', sender: 'agent', name: 'Taras K.' }], 'the visitor never sees the agent who left; the renamed one under the new name')
})
