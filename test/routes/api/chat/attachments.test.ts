import t from 'tap'
import { buildTestApp, fileDatabaseUrl } from '../../../helpers/app.js'
import { databaseRelay } from '../../../helpers/database-relay.js'
import * as files from '../../../helpers/files.js'
import { bearer, makeSession, makeSite, makeStaff, sendRequest, type Staff } from '../../../helpers/fixtures.js'
import { dashboardUrl, listen, openDashboard, openSocket, widgetUrl } from '../../../helpers/sockets.js'
import { pathOf, staffUpload, staffUploadRequest, visitorUpload, visitorUploadRequest } from '../../../helpers/uploads.js'

const reply = (staff: Staff, sessionId: string, body: Record<string, unknown>) =>
  ({ method: 'POST' as const, url: `/api/chat/sessions/${sessionId}/messages`, headers: bearer(staff), payload: body })

t.test('an agent uploads a PDF and replies with it; the visitor\'s socket gets a URL that downloads it', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const staff = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'send me the invoice' })
  const widget = await openSocket(t, widgetUrl(base, s))
  const dashboard = await openSocket(t, dashboardUrl(base, staff))
  await widget.waitForSeq(1)
  const up = await app.inject(staffUploadRequest(staff, s.id, files.pdf('Invoice 7'), 'invoice-7.pdf'))
  t.equal(up.statusCode, 201)
  t.match(up.json().data.attachment, { name: 'invoice-7.pdf', contentType: 'application/pdf', size: files.pdf('Invoice 7').length })
  const sent = await app.inject(reply(staff, s.id, { text: 'Here it is', attachments: [up.json().data.attachment.id] }))
  t.equal(sent.statusCode, 201)
  await widget.waitForSeq(2)
  const frame = widget.ofType('message')[1]?.message as unknown as { attachments: { url: string; name: string }[] }
  t.equal(frame.attachments[0]?.name, 'invoice-7.pdf')
  t.ok(frame.attachments[0]?.url.startsWith(base.replace('ws:', 'http:')), 'the URL starts with the origin the socket used')
  const res = await fetch(frame.attachments[0]?.url ?? '')
  t.equal(res.status, 200, 'opens without any header, from the frame alone')
  t.same(Buffer.from(await res.arrayBuffer()), files.pdf('Invoice 7'))
  t.match(res.headers.get('content-disposition'), /^attachment; filename="invoice-7.pdf"/)
  await dashboard.waitUntil('message.created 2', () => dashboard.ofType('message.created').some((f) => f.message?.seq === 2))
  const created = dashboard.ofType('message.created').find((f) => f.message?.seq === 2)?.message as unknown as { attachments: { url: string }[] }
  t.match(created.attachments[0]?.url, /\/api\/files\//, 'dashboards get the URL too')
})

t.test('a visitor\'s image reaches the dashboard with a URL; the session list shows it as the last message', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  const dashboard = await openDashboard(t, base, staff)
  const image = await visitorUpload(app, s, files.png(), 'screenshot.png')
  await app.inject(sendRequest(s, { text: '', attachments: [image.id] }))
  await dashboard.waitUntil('message.created', () => dashboard.ofType('message.created').length > 0)
  const url = (dashboard.ofType('message.created')[0]?.message as unknown as { attachments: { url: string }[] }).attachments[0]?.url ?? ''
  t.equal((await fetch(url)).headers.get('content-type'), 'image/png')
  const list = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })
  const row = list.json().data.sessions.find((x: { id: string }) => x.id === s.id)
  t.match(row.lastMessage.attachments[0], { name: 'screenshot.png', url: /\/api\/files\// })
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(staff) })
  t.equal((await app.inject({ method: 'GET', url: pathOf(detail.json().data.messages[0].attachments[0].url) })).statusCode, 200)
})

t.test('staff uploads need a valid token; a missing session is 404; an agent cannot send the visitor\'s file as its own', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  const noAuth = await app.inject({ ...staffUploadRequest(staff, s.id, files.png()), headers: { ...staffUploadRequest(staff, s.id, files.png()).headers, authorization: 'Bearer nope' } })
  t.equal(noAuth.statusCode, 401)
  t.equal((await app.inject(staffUploadRequest(staff, '00000000-0000-4000-8000-000000000000', files.png()))).statusCode, 404)
  t.equal((await app.inject(staffUploadRequest(staff, 'not-a-uuid', files.png()))).statusCode, 404)
  t.equal((await app.inject(staffUploadRequest(staff, s.id, files.svg(), 'x.png'))).statusCode, 415)
  const visitors = await visitorUpload(app, s, files.png())
  t.equal((await app.inject(reply(staff, s.id, { text: 'mine?', attachments: [visitors.id] }))).statusCode, 400)
  const own = await staffUpload(app, staff, s.id, files.png())
  t.equal((await app.inject(reply(staff, s.id, { attachments: [own.id] }))).statusCode, 201, 'text may be left out with a file')
  t.equal((await app.inject(reply(staff, s.id, {}))).statusCode, 400, 'neither text nor a file')
})

t.test('a staff upload reads its session once: it costs the visitor\'s upload plus the token check, no more', async (t) => {
  const relay = await databaseRelay(await fileDatabaseUrl(), { countQueries: true })
  t.teardown(relay.close)
  const app = await buildTestApp(t, { databaseUrl: relay.url })
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  const queriesOf = async (upload: () => Promise<{ statusCode: number }>) => {
    const before = relay.queries()
    t.equal((await upload()).statusCode, 201)
    return relay.queries() - before
  }
  // the least of several: background jobs (sweeps, the outbox) query now and then in between
  const least = async (upload: () => Promise<{ statusCode: number }>) => {
    const counts: number[] = []
    for (let i = 0; i < 5; i++) counts.push(await queriesOf(upload))
    return Math.min(...counts)
  }
  const visitor = await least(() => app.inject(visitorUploadRequest(s, files.png())))
  const tokenCheck = await least(() => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(staff) }).then((r) => ({ statusCode: r.statusCode === 200 ? 201 : r.statusCode })))
  const agent = await least(() => app.inject(staffUploadRequest(staff, s.id, files.png())))
  t.equal(agent, visitor + tokenCheck, `agent ${agent}, visitor ${visitor}, token check ${tokenCheck} queries`)
})
