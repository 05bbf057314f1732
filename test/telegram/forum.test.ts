import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeStaff, poll, pollRequest, sendRequest } from '../helpers/fixtures.js'
import { startBotApi, type BotApiStandIn } from '../helpers/telegram-bot-api.js'
import { makeTelegramSite, telegramEnv } from '../helpers/telegram.js'
import { waitFor } from '../helpers/wait.js'

/** A conversation in a forum supergroup, with its topic created and its card posted there. */
async function forumConversation(t: { ok: (v: unknown) => void }, bot: BotApiStandIn, app: FastifyInstance) {
  const chatId = `-100${Date.now()}`
  bot.forumChats.add(chatId)
  const site = await makeTelegramSite(app, chatId)
  const s = await makeSession(app, site, { name: 'Ann', phone: '+380 50 1', pageUrl: 'https://shop.example/cart' })
  const topic = await waitFor('the topic', () => bot.topics.find((x) => x.chat_id === chatId))
  await waitFor('the card', () => bot.sent.some((m) => m.chat_id === chatId))
  t.ok(topic)
  return { site, s, threadId: topic.message_thread_id, chatId }
}

t.test('each conversation gets its own topic, and its notes go there', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, threadId, chatId } = await forumConversation(t, bot, app)
  t.match(bot.topics[0]?.name, /^Ann · #/)
  await app.inject(sendRequest(s, { text: 'second question' }))
  await waitFor('the message', () => bot.sent.some((m) => m.text.includes('second question')))
  t.same(bot.sent.filter((m) => m.chat_id === chatId).map((m) => m.message_thread_id), [threadId, threadId])
  t.equal(bot.topics.length, 1)

  // a manager deletes the topic while the conversation goes on: its next note opens a new one
  bot.deletedTopics.add(threadId)
  await app.inject(sendRequest(s, { text: 'after the topic was deleted' }))
  const note = await waitFor('the note in a new topic', () => bot.sent.find((m) => m.text.includes('after the topic was deleted')))
  t.equal(bot.topics.length, 2)
  t.equal(note.message_thread_id, bot.topics[1]?.message_thread_id)
  t.equal((await app.sql<{ n: number }[]>`select count(*)::int as n from outbox where session_id = ${s.id} and status = 'failed'`)[0]?.n, 0, 'nothing given up on')
})

t.test('a plain message in the topic is the reply', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, threadId, chatId } = await forumConversation(t, bot, app)
  bot.pushUpdate({ chatId, threadId, text: 'answer in the topic' })
  const reply = await waitFor('the reply', async () => (await poll(app, s)).find((m) => m.sender === 'agent'))
  t.equal(reply.text, 'answer in the topic')
  await waitFor('the reaction', () => bot.reactions.length === 1)
})

t.test('/info answers with the contact details and page in the topic', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, threadId, chatId } = await forumConversation(t, bot, app)
  bot.pushUpdate({ chatId, threadId, text: '/info@my_bot' })
  const info = await waitFor('the info', () => bot.sent.find((m) => m.text.includes('ℹ️')))
  t.equal(info.message_thread_id, threadId)
  t.match(info.text, /📞 \+380 50 1/)
  t.match(info.text, /🌐 https:\/\/shop\.example\/cart/)
  t.same((await poll(app, s)).filter((m) => m.sender === 'agent'), [], 'a command is not a message')
})

t.test('/take assigns the conversation to the agent linked to the Telegram user, and says so to others', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, threadId, chatId } = await forumConversation(t, bot, app)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent', 'Petro')
  bot.pushUpdate({ chatId, threadId, text: '/take', from: { id: 555, first_name: 'Stranger' } })
  const refused = await waitFor('the refusal', () => bot.sent.find((m) => m.text.includes('not linked')))
  t.match(refused.text, /<code>555<\/code>/)
  const link = await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { telegramUserId: 777 } })
  t.equal(link.statusCode, 200)
  bot.pushUpdate({ chatId, threadId, text: '/take', from: { id: 777, first_name: 'Petro' } })
  await waitFor('the confirmation', () => bot.sent.find((m) => m.text.includes('Assigned to Petro')))
  const res = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })
  t.match(res.json().data.session.assignedTo, { id: agent.id })
})

t.test('/close closes the conversation and the visitor sees it', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, threadId, chatId } = await forumConversation(t, bot, app)
  bot.pushUpdate({ chatId, threadId, text: '/close' })
  await waitFor('the confirmation', () => bot.sent.find((m) => m.text.includes('Conversation closed')))
  const res = await app.inject(pollRequest(s))
  t.equal(res.json().data.status, 'closed')
  t.equal((await app.inject(sendRequest(s, { text: 'wait' }))).statusCode, 409)
})

t.test('a command outside any conversation gets a hint and changes nothing', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { chatId } = await forumConversation(t, bot, app)
  bot.pushUpdate({ chatId, text: '/close' })
  const hint = await waitFor('the hint', () => bot.sent.find((m) => m.text.includes('as a reply')))
  t.equal(hint.chat_id, chatId)
})

t.test('/info shows the labels and who has the chat; /take follows the dashboard\'s rules (an agent of another site is refused)', async (t) => {
  const bot = await startBotApi(t)
  const app = await buildTestApp(t, { env: telegramEnv(bot) })
  const { s, site, threadId, chatId } = await forumConversation(t, bot, app)
  const admin = await makeStaff(app, 'admin')
  const outsider = await makeStaff(app, 'agent', 'Ira', [(await makeTelegramSite(app)).id])
  await app.inject({ method: 'PATCH', url: `/api/admin/users/${outsider.id}`, headers: bearer(admin), payload: { telegramUserId: 901 } })
  bot.pushUpdate({ chatId, threadId, text: '/take', from: { id: 901, first_name: 'Ira' } })
  await waitFor('the refusal', () => bot.sent.find((m) => m.text.includes('Not assigned')))
  await app.inject({ method: 'PATCH', url: `/api/admin/users/${outsider.id}`, headers: bearer(admin), payload: { siteIds: [site.id] } })
  bot.pushUpdate({ chatId, threadId, text: '/take', from: { id: 901, first_name: 'Ira' } })
  await waitFor('the confirmation', () => bot.sent.find((m) => m.text.includes('Assigned to Ira')))
  await app.inject({ method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, headers: bearer(admin), payload: { labels: ['vip', 'billing'] } })
  bot.pushUpdate({ chatId, threadId, text: '/info' })
  const info = await waitFor('the info', () => bot.sent.find((m) => m.text.includes('ℹ️')))
  t.match(info.text, /🙋 assigned to Ira/)
  t.match(info.text, /🏷 billing, vip/)
})
