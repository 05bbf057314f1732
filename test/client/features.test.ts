import t from 'tap'
import type { Attachment } from '../../packages/client/src/index.js'
import { createResumeLink } from '../../src/chat/resume-links.js'
import { pdf, png } from '../helpers/files.js'
import { bearer } from '../helpers/fixtures.js'
import { dashboardUrl, openSocket } from '../helpers/sockets.js'
import { waitFor } from '../helpers/wait.js'
import { delivered, world } from './helpers.js'

/** The SDK's second-part calls against the real server; one server for the file, a new visitor per test. */
const w = await world(t)
const app = w.server.app
const wsBase = w.server.origin.replace(/^http/, 'ws')
const adminView = async (sessionId: string) =>
  (await app.inject({ method: 'GET', url: `/api/chat/sessions/${sessionId}`, headers: bearer(w.agent) })).json().data
const closeSession = (sessionId: string) =>
  app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(w.agent) })

t.test('typing(): at most one frame per 2 s reaches the agent; the agent\'s typing arrives as a typing event', async (t) => {
  const v = w.visitor()
  const session = await v.client.start()
  await waitFor('the socket', () => v.client.connection === 'socket')
  const dashboard = await openSocket(t, dashboardUrl(wsBase, w.agent))
  const started = Date.now()
  while (Date.now() - started < 4500) {
    v.client.typing()
    await new Promise((r) => setTimeout(r, 100))
  }
  await waitFor('typing frames', () => dashboard.ofType('typing').length >= 2)
  const frames = dashboard.ofType('typing')
  t.ok(frames.length <= 3, `${frames.length} frames in 4.5 s of typing`)
  t.match(frames[0], { sessionId: session.id, sender: 'visitor' })

  const typing: { sender: string; name?: string }[] = []
  v.client.on('typing', (e) => void typing.push(e))
  dashboard.send({ type: 'typing', sessionId: session.id })
  await waitFor('the agent typing', () => typing.length > 0)
  t.same(typing, [{ sender: 'agent', name: 'Olena' }], 'the agent\'s name from makeStaff')
})

t.test('typing() is a no-op while polling', async (t) => {
  const v = w.visitor({ transport: 'polling' })
  await v.client.start()
  t.doesNotThrow(() => v.client.typing())
})

t.test('markRead() records what the visitor saw; an agent\'s read arrives as a read event, by socket and by polling', async (t) => {
  for (const transport of ['socket', 'polling'] as const) {
    const v = w.visitor({ transport })
    const reads: number[] = []
    v.client.on('read', (r) => void reads.push(r.seq))
    const session = await v.client.start()
    await v.client.send('one')
    await w.reply(session.id, 'two')
    await delivered(v, 2)
    await v.client.markRead()
    t.equal(v.client.session?.visitorReadSeq, 2, `${transport}: session shows the visitor's own read mark`)
    await waitFor('visitorReadSeq', async () => (await adminView(session.id)).session.visitorReadSeq === 2 || undefined)
    await app.inject({ method: 'POST', url: `/api/chat/sessions/${session.id}/read`, headers: bearer(w.agent) })
    await waitFor(`the agent's read (${transport})`, () => reads.includes(2) || undefined, 15_000)
    t.same(reads, [2], `${transport}: the agent has seen up to seq 2, told once`)
    t.equal(v.client.session?.agentReadSeq, 2, `${transport}: session shows the agent's read mark`)
    await v.client.markRead(1)
    t.equal(v.client.session?.visitorReadSeq, 2, `${transport}: the visitor's read mark never moves back`)
  }
})

t.test('markRead() that did not reach the server is sent again by the next markRead() of that seq', async (t) => {
  const v = w.visitor({ transport: 'polling' })
  const session = await v.client.start()
  await w.reply(session.id, 'hello')
  await delivered(v, 1)
  w.proxy.faults.down = true
  const unreached = await v.client.markRead().then(() => undefined, (err: unknown) => err)
  t.match(unreached, { status: 0 }, 'the server is not reached')
  w.proxy.faults.down = false
  await v.client.markRead()
  t.equal((await adminView(session.id)).session.visitorReadSeq, 1, 'the read mark is recorded on the second call')
})

t.test('upload() reports progress, and the file goes out with the next send; a cancelled upload rejects with AbortError', async (t) => {
  const v = w.visitor()
  const session = await v.client.start()
  const progress: number[] = []
  const attachment: Attachment = await v.client.upload(new Blob([new Uint8Array(png())], { type: 'image/png' }), 'shot.png', { onProgress: (p) => void progress.push(p.loaded / p.total) })
  t.match(attachment, { name: 'shot.png', contentType: 'image/png', size: png().length })
  t.ok(progress.length > 0 && progress.at(-1) === 1, `progress reported up to the whole body (${progress.length} events)`)
  const sent = await v.client.send('', { attachments: [attachment.id] })
  const files = (sent as typeof sent & { attachments: Attachment[] }).attachments
  t.match(files, [{ id: attachment.id, name: 'shot.png' }])
  const res = await fetch(files[0]?.url ?? '')
  t.same(Buffer.from(await res.arrayBuffer()), png(), 'the signed URL serves the file')

  const abort = new AbortController()
  abort.abort()
  const err = await v.client.upload(new Blob([new Uint8Array(pdf())]), 'x.pdf', { signal: abort.signal }).catch((e: unknown) => e)
  t.equal((err as Error).name, 'AbortError')
  t.equal(session.id, v.client.session?.id)
})

t.test('rate() rates a closed session once; transcript() surfaces the server\'s answer', async (t) => {
  const v = w.visitor()
  const session = await v.client.start()
  await v.client.send('Thanks')
  await closeSession(session.id)
  await waitFor('the closed status', () => v.client.session?.status === 'closed' || undefined)
  t.match(await v.client.rate(4, 'Quick and kind'), { score: 4, comment: 'Quick and kind' })
  t.match(v.client.session?.rating, { score: 4, comment: 'Quick and kind' }, 'session shows the rating at once')
  t.match((await adminView(session.id)).session.rating, { score: 4, comment: 'Quick and kind' }, 'the agent sees it')
  t.match(await v.client.rate(5).catch((e: unknown) => e), { status: 409, code: 'CONFLICT' }, 'a second rating is refused')
  // emailing it is the server's part (tested with its routes); the widget test sees the 202 through the SDK
  t.match(await v.client.transcript().catch((e: unknown) => e), { status: 400 }, 'a session without an email gets no transcript')
})

t.test('resume(link) opens the conversation of an email\'s link in a client that holds nothing, live, once', async (t) => {
  const v = w.visitor()
  const session = await v.client.start()
  await v.client.send('Where is my order?')
  await w.reply(session.id, 'It ships today')
  const link = await createResumeLink(app.db, { siteId: w.site.id, sessionId: session.id }, 60_000)

  const other = w.visitor()
  t.notOk(other.client.hasStoredSession)
  t.match(await other.client.resume(link), { id: session.id, status: 'open' })
  await delivered(other, 2)
  t.same(other.seen.map((m) => m.text), ['Where is my order?', 'It ships today'], 'the history, once each')
  t.equal(other.storage.map.get('chatSessionId'), session.id, 'stored under the widget\'s keys')
  t.ok(other.client.hasStoredSession)
  await w.reply(session.id, 'Anything else?')
  await delivered(other, 3)
  await other.client.send('No, thanks')
  t.same((await w.history(session.id)).map((m) => m.text).slice(-1), ['No, thanks'], 'it writes in that conversation')
  t.match(await w.visitor().client.resume(link).catch((e: unknown) => e), { status: 401, code: 'UNAUTHORIZED' }, 'a used link opens nothing')
})

t.test('availability() says whether an agent of the site is online', async (t) => {
  const v = w.visitor()
  t.match(await v.client.availability(), { online: false, agentsOnline: 0 })
  const dashboard = await openSocket(t, dashboardUrl(wsBase, w.agent))
  await waitFor('the agent online', async () => (await v.client.availability()).online || undefined)
  t.match(await v.client.availability(), { online: true, agentsOnline: 1 })
  dashboard.close()
})
