import { PassThrough } from 'node:stream'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import * as files from '../helpers/files.js'
import { makeSession, makeSite, sendRequest, type TestSession } from '../helpers/fixtures.js'
import { startS3 } from '../helpers/s3.js'
import { pathOf, visitorUpload, visitorUploadRequest } from '../helpers/uploads.js'
import { waitFor } from '../helpers/wait.js'

const chunkCount = async (app: Awaited<ReturnType<typeof buildTestApp>>, id: string) =>
  (await app.sql`select count(*)::int as n from chat_attachment_chunks where attachment_id = ${id}`)[0]?.n as number

t.test('Postgres (the default): bytes in chunks, read back whole; erasing the session erases them', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const s = await makeSession(app, await makeSite(app))
  const big = files.text('0123456789abcdef'.repeat(40_000))
  const a = await visitorUpload(app, s, big, 'big.txt')
  t.ok(await chunkCount(app, a.id) >= 2, 'a 640 KB file is several chunks')
  const sent = await app.inject(sendRequest(s, { text: 'log', attachments: [a.id] }))
  const res = await app.inject({ method: 'GET', url: pathOf(sent.json().data.message.attachments[0].url) })
  t.same(res.rawPayload, big)
  t.equal(res.headers['content-length'], String(big.length))
  await app.sql`delete from chat_sessions where id = ${s.id}`
  t.equal(await chunkCount(app, a.id), 0, 'the chunks went with the session')
  t.equal((await app.inject({ method: 'GET', url: pathOf(sent.json().data.message.attachments[0].url) })).statusCode, 404, 'the link finds nothing')
})

/**
 * Uploads 600 KB of text in two halves, erasing the session (and running the S3 clean-up)
 * once `started` says the first half is in; the upload's answer.
 */
async function uploadErasedMidway(app: FastifyInstance, s: TestSession, started: () => Promise<boolean>) {
  const request = visitorUploadRequest(s, files.text('x'.repeat(600_000)), 'slow.txt')
  const payload = request.payload as Buffer
  const cut = payload.indexOf('\r\n\r\n') + 4 + 300_000
  const body = new PassThrough()
  const answer = app.inject({ ...request, payload: body })
  body.write(payload.subarray(0, cut))
  await waitFor('the first half to be stored', started)
  await app.sql`delete from chat_sessions where id = ${s.id}`
  await app.files.purgeDeleted()
  body.end(payload.subarray(cut))
  return answer
}

t.test('Postgres: a session erased while a file comes in is a 404, no 500, and leaves no chunk', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const s = await makeSession(app, await makeSite(app))
  const res = await uploadErasedMidway(app, s, async () =>
    (await app.sql`select count(*)::int as n from chat_attachment_chunks c join chat_attachments a on a.id = c.attachment_id where a.session_id = ${s.id}`)[0]?.n > 0)
  t.equal(res.statusCode, 404)
  t.match(res.json().error, { code: 'NOT_FOUND', message: 'Session not found' })
  t.equal((await app.sql`select count(*)::int as n from chat_attachment_chunks`)[0]?.n, 0)
})

t.test('S3 (S3_BUCKET set): streamed to the bucket, served by every instance, erased with the session', async (t) => {
  const s3 = await startS3(t)
  const databaseUrl = await freshDatabase()
  const a = await buildTestApp(t, { databaseUrl, env: s3.env })
  const b = await buildTestApp(t, { databaseUrl, env: s3.env })
  const s = await makeSession(a, await makeSite(a))
  // past S3's 5 MiB part size: a multipart upload
  const large = files.text('S3 multipart part. '.repeat(330_000))
  const image = await visitorUpload(a, s, files.png(), 'shot.png')
  const log = await visitorUpload(a, s, large, 'large.txt')
  t.same((await s3.keys()).sort(), [`attachments/${image.id}`, `attachments/${log.id}`].sort())
  t.equal(await chunkCount(a, image.id), 0, 'nothing in Postgres but the row')
  const sent = await a.inject(sendRequest(s, { text: '', attachments: [image.id, log.id] }))
  const [imageUrl, logUrl] = sent.json().data.message.attachments.map((x: { url: string }) => x.url)
  const fromB = await b.inject({ method: 'GET', url: pathOf(logUrl) })
  t.equal(fromB.statusCode, 200, 'instance B serves a link instance A made')
  t.ok(fromB.rawPayload.equals(large))
  t.same((await b.inject({ method: 'GET', url: pathOf(imageUrl) })).rawPayload, files.png())
  await a.sql`delete from chat_sessions where id = ${s.id}`
  await b.files.purgeDeleted()
  t.same(await s3.keys(), [], 'both objects are gone from the bucket')
  t.equal((await a.inject({ method: 'GET', url: pathOf(imageUrl) })).statusCode, 404)
})

t.test('S3: a refused or broken upload leaves nothing in the bucket', async (t) => {
  const s3 = await startS3(t)
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { ...s3.env, ATTACHMENT_MAX_BYTES: String(6 * 1024 * 1024) } })
  const s = await makeSession(app, await makeSite(app))
  t.equal((await app.inject(visitorUploadRequest(s, files.html(), 'a.txt'))).statusCode, 415)
  t.equal((await app.inject(visitorUploadRequest(s, files.text('x'.repeat(6 * 1024 * 1024 + 1)), 'over.txt'))).statusCode, 413)
  await app.files.purgeDeleted()
  t.same(await s3.keys(), [])
  const [row] = await app.sql`select count(*)::int as n from file_deletions`
  t.equal(row?.n, 0, 'the deletion queue is empty again')
})

t.test('S3: a session erased while a file comes in leaves no object in the bucket (the clean-up ran before it was written)', async (t) => {
  const s3 = await startS3(t)
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: s3.env })
  const s = await makeSession(app, await makeSite(app))
  const res = await uploadErasedMidway(app, s, async () =>
    (await app.sql`select count(*)::int as n from chat_attachments where session_id = ${s.id}`)[0]?.n > 0)
  t.equal(res.statusCode, 404)
  t.match(res.json().error, { code: 'NOT_FOUND', message: 'Session not found' })
  await app.files.purgeDeleted()
  t.same(await s3.keys(), [], 'the erased visitor\'s file is not kept')
})

t.test('files kept in Postgres stay readable after S3 is configured', async (t) => {
  const s3 = await startS3(t)
  const databaseUrl = await freshDatabase()
  const before = await buildTestApp(t, { databaseUrl })
  const s = await makeSession(before, await makeSite(before))
  const old = await visitorUpload(before, s, files.pdf(), 'old.pdf')
  await before.inject(sendRequest(s, { text: 'old', attachments: [old.id] }))
  const after = await buildTestApp(t, { databaseUrl, env: s3.env })
  const fresh = await visitorUpload(after, s, files.png(), 'new.png')
  await after.inject(sendRequest(s, { text: 'new', attachments: [fresh.id] }))
  const history = await after.inject({ method: 'GET', url: `/api/public/chat/sessions/${s.id}/messages`, headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token } })
  const [first, second] = history.json().data.messages.map((m: { attachments: { url: string }[] }) => m.attachments[0]?.url ?? '')
  t.same((await after.inject({ method: 'GET', url: pathOf(first) })).rawPayload, files.pdf(), 'from Postgres')
  t.same((await after.inject({ method: 'GET', url: pathOf(second) })).rawPayload, files.png(), 'from S3')
  t.same(await s3.keys(), [`attachments/${fresh.id}`])
})

t.test('the clean-up job deletes queued S3 objects by itself', async (t) => {
  const s3 = await startS3(t)
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: s3.env })
  const s = await makeSession(app, await makeSite(app))
  const a = await visitorUpload(app, s, files.png())
  t.ok(await s3.exists(`attachments/${a.id}`))
  await app.sql`delete from chat_attachments where id = ${a.id}`
  await waitFor('the job to delete the object', async () => !(await s3.exists(`attachments/${a.id}`)), 15_000)
  t.pass('deleted without anyone calling purgeDeleted')
})
