import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import * as files from '../helpers/files.js'
import { makeSession, poll, sendRequest, type TestSession } from '../helpers/fixtures.js'
import { startBotApi } from '../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from '../helpers/telegram.js'
import { pathOf, visitorUpload, type WireAttachment } from '../helpers/uploads.js'
import { waitFor } from '../helpers/wait.js'

// one stand-in and one app for the file: each test has its own site and chat
const MAX_BYTES = 64 * 1024

t.test('Telegram media both ways', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot, { ATTACHMENT_MAX_BYTES: String(MAX_BYTES) }) })

  async function notifiedSession() {
    const site = await makeTelegramSite(app)
    const s = await makeSession(app, site, { name: 'Ann' })
    const card = await waitFor('the card', () => bot.sentTo(site.chatId).find((m) => m.text.includes(s.id.slice(0, 8))))
    await waitFor('the card to be remembered', async () => (await app.sql`select 1 from telegram_messages where message_id = ${card.message_id}`).length > 0)
    return { site, s, cardId: card.message_id }
  }
  const agentFiles = async (s: TestSession) => (await poll(app, s))
    .filter((m) => m.sender === 'agent')
    .map((m) => m as unknown as { text: string; attachments: WireAttachment[] })

  await t.test("a visitor's image goes as a photo and a PDF as a document, byte for byte, the text as the first caption", async (t) => {
    const { site, s } = await notifiedSession()
    const image = files.png(8, 8)
    const doc = files.pdf('Invoice 7')
    const a = await visitorUpload(app, s, image, 'screen.png')
    const b = await visitorUpload(app, s, doc, 'bill.pdf')
    t.equal((await app.inject(sendRequest(s, { text: 'it <breaks> here', attachments: [a.id, b.id] }))).statusCode, 201)
    const sent = await waitFor('both files', () => bot.files.filter((f) => f.chat_id === site.chatId).length === 2 && bot.files.filter((f) => f.chat_id === site.chatId))
    t.match(sent[0], { method: 'sendPhoto', name: 'screen.png', contentType: 'image/png', parse_mode: 'HTML' })
    t.ok(sent[0]?.bytes.equals(image), 'the photo is the uploaded bytes')
    t.match(sent[0]?.caption, /Ann[\s\S]*<blockquote>it &lt;breaks&gt; here/, 'the first caption quotes the text, escaped')
    t.match(sent[1], { method: 'sendDocument', name: 'bill.pdf', contentType: 'application/pdf' })
    t.ok(sent[1]?.bytes.equals(doc), 'the document is the uploaded bytes')
    t.notMatch(sent[1]?.caption, /breaks/, 'the text only once')
    t.notOk(bot.sentTo(site.chatId).some((m) => m.text.includes('breaks')), 'no separate text message')
    // a manager's reply to the photo finds the conversation
    bot.pushUpdate({ chatId: site.chatId, replyTo: sent[0]?.message_id, text: 'seen your screenshot' })
    await waitFor('the reply', async () => (await agentFiles(s)).some((m) => m.text === 'seen your screenshot'))
  })

  await t.test('a document reaches the managers named with an extension of its checked type', async (t) => {
    const { site, s } = await notifiedSession()
    // plain text passes the content check; saved as .bat, a double click would run it
    const a = await visitorUpload(app, s, files.text('@echo off'), 'invoice.bat')
    t.equal((await app.inject(sendRequest(s, { text: '', attachments: [a.id] }))).statusCode, 201)
    const [sent] = await waitFor('the file', () => bot.files.filter((f) => f.chat_id === site.chatId).length === 1 && bot.files.filter((f) => f.chat_id === site.chatId))
    t.match(sent, { method: 'sendDocument', name: 'invoice.bat.txt', contentType: 'text/plain' })
  })

  await t.test("a manager's photo and document reach the visitor as attachments that download", async (t) => {
    const { site, s, cardId } = await notifiedSession()
    const photo = files.png(16, 16)
    const photoId = bot.addFile(photo, 'photos/file_1.jpg')
    bot.pushUpdate({ chatId: site.chatId, replyTo: cardId, caption: 'like this', photo: photoId })
    const doc = files.pdf('Manual')
    bot.pushUpdate({ chatId: site.chatId, replyTo: cardId, document: { fileId: bot.addFile(doc, 'documents/file_2'), name: 'manual.pdf' } })
    const replies = await waitFor('both replies', async () => { const r = await agentFiles(s); return r.length === 2 && r })
    t.equal(replies[0]?.text, 'like this', 'the caption is the text')
    t.match(replies[0]?.attachments, [{ contentType: 'image/png', size: photo.length }], 'type from the content, not the name')
    t.match(replies[1], { text: '', attachments: [{ name: 'manual.pdf', contentType: 'application/pdf', size: doc.length }] })
    for (const [i, bytes] of [photo, doc].entries()) {
      const res = await app.inject({ method: 'GET', url: pathOf(replies[i]?.attachments[0]?.url ?? '') })
      t.equal(res.statusCode, 200)
      t.ok(res.rawPayload.equals(bytes), 'downloads the bytes Telegram had')
    }
    t.same(bot.calls.filter((c) => c.method === 'getFile' && String(c.params.file_id).endsWith(photoId)).map((c) => c.params.file_id), [photoId], 'the largest photo size is fetched')
    await waitFor('both acknowledged', () => bot.reactions.filter((r) => String(r.chat_id) === site.chatId).length === 2)
  })

  await t.test('files refused like uploads are not sent, nothing is kept, and the manager is told why', async (t) => {
    const { site, s, cardId } = await notifiedSession()
    const before = await app.sql`select count(*)::int as n from chat_attachments where session_id = ${s.id}`
    bot.pushUpdate({ chatId: site.chatId, replyTo: cardId, document: { fileId: bot.addFile(Buffer.from('<html><script>x</script></html>'), 'documents/page.html'), name: 'page.html' } })
    await waitFor('the type note', () => bot.sentTo(site.chatId).some((m) => m.text.startsWith('Not sent')))
    const bigId = bot.addFile(files.pdf(), 'documents/big.pdf')
    bot.pushUpdate({ chatId: site.chatId, replyTo: cardId, document: { fileId: bigId, name: 'big.pdf', size: MAX_BYTES + 1 } })
    await waitFor('the size note', () => bot.sentTo(site.chatId).some((m) => m.text.includes(`larger than ${MAX_BYTES}`)))
    bot.pushUpdate({ chatId: site.chatId, replyTo: cardId, caption: 'gone', photo: 'no-such-file' })
    await waitFor('the download note', () => bot.sentTo(site.chatId).some((m) => m.text.includes('could not be downloaded')))
    t.same(await agentFiles(s), [], 'the visitor got none of them')
    const after = await app.sql`select count(*)::int as n from chat_attachments where session_id = ${s.id}`
    t.equal(after[0]?.n, before[0]?.n, 'no stored file is left behind')
    t.notOk(bot.calls.some((c) => c.method === 'getFile' && c.params.file_id === bigId), 'an oversized file is not downloaded')
  })
})
