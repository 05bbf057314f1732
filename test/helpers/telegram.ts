import { randomInt } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { updateSite } from '../../src/chat/sites.js'
import { createUser, updateUser } from '../../src/chat/users.js'
import { makeSite, type TestSite, uniq } from './fixtures.js'

/**
 * A local stand-in for the Telegram Bot API: records what the app sends and answers like
 * Telegram, or fails on demand (500, 429 with retry_after, or no answer at all).
 */

export type Mode = { kind: 'ok' } | { kind: 'error' } | { kind: 'rateLimit'; retryAfter: number } | { kind: 'hang' }

export type Call = { token: string; method: string; params: Record<string, unknown>; at: number }

export type SentMessage = {
  message_id: number
  chat_id: string
  text: string
  parse_mode?: string
  message_thread_id?: number
  reply_to?: number
}

export type FakeUpdateMessage = {
  /** unset: a photo */
  text?: string
  chatId: string
  from?: { id: number; first_name: string; last_name?: string; is_bot?: boolean }
  replyTo?: number
  threadId?: number
}

export type BotApiStandIn = {
  url: string
  /** every request, answered or not */
  calls: Call[]
  /** sendMessage calls that succeeded */
  sent: SentMessage[]
  /** those to one chat (tests of a file share a database, so another test's late notes can arrive here) */
  sentTo: (chatId: string) => SentMessage[]
  reactions: { chat_id: unknown; message_id: unknown }[]
  topics: { chat_id: string; name: string; message_thread_id: number }[]
  webhooks: Record<string, unknown>[]
  forumChats: Set<string>
  /** how methods other than getUpdates answer */
  setMode: (mode: Mode) => void
  /** queue an update for getUpdates; returns its update_id */
  pushUpdate: (m: FakeUpdateMessage) => number
  updateBody: (updateId: number, m: FakeUpdateMessage) => Record<string, unknown>
  close: () => Promise<void>
}

const readJson = (req: IncomingMessage) => new Promise<Record<string, unknown>>((resolve) => {
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    try {
      resolve(body ? (JSON.parse(body) as Record<string, unknown>) : {})
    } catch {
      resolve({})
    }
  })
})

export async function startBotApi(t: { teardown: (fn: () => unknown) => void }): Promise<BotApiStandIn> {
  let mode: Mode = { kind: 'ok' }
  let nextMessageId = 1000
  // ids keep growing across the tests of a file, which share a database and its stored offset
  let nextUpdateId = Date.now()
  const updates: Record<string, unknown>[] = []
  const sockets = new Set<Socket>()
  const api: Omit<BotApiStandIn, 'url' | 'close'> = {
    calls: [], sent: [], reactions: [], topics: [], webhooks: [], forumChats: new Set(),
    sentTo: (chatId) => api.sent.filter((m) => m.chat_id === chatId),
    setMode: (m) => (mode = m),
    pushUpdate: (m) => {
      const id = nextUpdateId++
      updates.push(api.updateBody(id, m))
      return id
    },
    updateBody: (updateId, m) => ({
      update_id: updateId,
      message: {
        message_id: nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: Number(m.chatId), type: 'supergroup' },
        from: { is_bot: false, ...(m.from ?? { id: 42, first_name: 'Taras', last_name: 'Manager' }) },
        ...(m.text === undefined ? { photo: [{ file_id: 'f1', width: 90, height: 90 }] } : { text: m.text }),
        ...(m.replyTo ? { reply_to_message: { message_id: m.replyTo } } : {}),
        ...(m.threadId ? { message_thread_id: m.threadId, is_topic_message: true } : {}),
      },
    }),
  }

  function answer(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  function handle(method: string, params: Record<string, unknown>, res: ServerResponse) {
    if (method === 'getUpdates') {
      const offset = Number(params.offset ?? 0)
      // like Telegram: asking from an offset confirms (drops) every earlier update
      while (updates.length && Number(updates[0]?.update_id) < offset) updates.shift()
      return answer(res, 200, { ok: true, result: updates })
    }
    if (mode.kind === 'hang') return undefined
    if (mode.kind === 'error') return answer(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' })
    if (mode.kind === 'rateLimit') {
      return answer(res, 429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${mode.retryAfter}`, parameters: { retry_after: mode.retryAfter } })
    }
    if (method === 'sendMessage') {
      const reply = params.reply_parameters as { message_id?: number } | undefined
      const m: SentMessage = {
        message_id: nextMessageId++,
        chat_id: String(params.chat_id),
        text: String(params.text),
        parse_mode: params.parse_mode as string | undefined,
        message_thread_id: params.message_thread_id as number | undefined,
        reply_to: reply?.message_id,
      }
      api.sent.push(m)
      return answer(res, 200, { ok: true, result: { message_id: m.message_id, chat: { id: Number(m.chat_id) }, text: m.text } })
    }
    if (method === 'getChat') {
      const id = String(params.chat_id)
      return answer(res, 200, { ok: true, result: { id: Number(id), type: 'supergroup', is_forum: api.forumChats.has(id) } })
    }
    if (method === 'createForumTopic') {
      const chatId = String(params.chat_id)
      if (!api.forumChats.has(chatId)) return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: the chat is not a forum' })
      const topic = { chat_id: chatId, name: String(params.name), message_thread_id: nextMessageId++ }
      api.topics.push(topic)
      return answer(res, 200, { ok: true, result: { message_thread_id: topic.message_thread_id, name: topic.name } })
    }
    if (method === 'setMessageReaction') {
      api.reactions.push({ chat_id: params.chat_id, message_id: params.message_id })
      return answer(res, 200, { ok: true, result: true })
    }
    if (method === 'setWebhook') {
      api.webhooks.push(params)
      return answer(res, 200, { ok: true, result: true })
    }
    return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
  }

  const server = createServer(async (req, res) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '')
    const params = await readJson(req)
    if (!match?.[1] || !match[2]) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
    api.calls.push({ token: match[1], method: match[2], params, at: Date.now() })
    return handle(match[2], params, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy()
    server.close(() => resolve())
  })
  t.teardown(close)
  return { ...api, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close } as BotApiStandIn
}

export const TEST_BOT_TOKEN = '123456:TEST-token_abc'

/** Retry timings that keep failure tests short, pointed at the stand-in; delivery itself runs at the default OUTBOX_POLL_MS. */
export function telegramEnv(standIn: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TELEGRAM_API_URL: standIn.url,
    PUBLIC_URL: 'https://chat.example.com',
    OUTBOX_RETRY_BASE_MS: '20',
    OUTBOX_RETRY_MAX_MS: '200',
    // generous: a send that times out after the stand-in took it is sent again (at-least-once), which would fail exactly-once checks on a busy machine
    OUTBOX_SEND_TIMEOUT_MS: '5000',
    TELEGRAM_LONG_POLL_SECONDS: '0',
    TELEGRAM_IDLE_MS: '25',
    BOT_FOLLOW_UP_POLL_MS: '25',
    ...extra,
  }
}

/** The Telegram user the stand-in's updates come from unless a test names another. */
export const DEFAULT_MANAGER_ID = 42

/** An agent linked to a Telegram account (users.telegramUserId): only such agents may answer from Telegram. */
export async function linkTelegramAgent(app: FastifyInstance, telegramUserId: number, name: string): Promise<void> {
  const user = await createUser(app.db, { email: `${uniq('tg-')}@example.com`, name, password: 'correct horse battery', role: 'agent' })
  await updateUser(app.db, app.bus, user.id, { telegramUserId })
}

/** A site posting to `chatId` through the test bot, whose default manager is a linked agent. */
export async function makeTelegramSite(app: FastifyInstance, chatId = `-100${randomInt(1e9)}`): Promise<TestSite & { chatId: string }> {
  const site = await makeSite(app)
  await updateSite(app.db, app.bus, app.secretBox, site.id, { telegramBotToken: TEST_BOT_TOKEN, telegramChatId: chatId })
  await linkTelegramAgent(app, DEFAULT_MANAGER_ID, 'Taras Manager')
  return { ...site, chatId }
}
