import { randomInt } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { readBody, type ReceivedBody } from './multipart.js'

/**
 * A local stand-in for the Telegram Bot API: records what the app sends and answers like
 * Telegram, or fails on demand (500, 429 with retry_after, any error answer, or no answer at all). getUpdates
 * long-polls as Telegram does: with nothing to hand out it answers when an update is pushed
 * or after `timeout` seconds, so the app runs at its default settings.
 */

export type Mode = { kind: 'ok' } | { kind: 'error' } | { kind: 'rateLimit'; retryAfter: number } | { kind: 'hang' }

/** A Bot API error answer: `retryAfter` (seconds) goes into parameters.retry_after, as on a 429. */
export type Refusal = { status: number; description: string; retryAfter?: number }

export type Call = { token: string; method: string; params: Record<string, unknown>; at: number }

export type SentMessage = {
  message_id: number
  chat_id: string
  text: string
  parse_mode?: string
  message_thread_id?: number
  reply_to?: number
}

/** A photo or document sendPhoto/sendDocument received (multipart, as Telegram takes them). */
export type SentFile = {
  message_id: number
  method: 'sendPhoto' | 'sendDocument'
  chat_id: string
  caption: string
  parse_mode?: string
  message_thread_id?: number
  name: string
  contentType: string
  bytes: Buffer
}

export type FakeUpdateMessage = {
  /** unset, and no photo, document or sticker: a photo that cannot be downloaded */
  text?: string
  caption?: string
  /** a file_id from addFile */
  photo?: string
  document?: { fileId: string; name: string; size?: number }
  sticker?: boolean
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
  /** sendPhoto and sendDocument calls that succeeded */
  files: SentFile[]
  /** a file managers sent, offered by getFile and the file URL; returns its file_id */
  addFile: (bytes: Buffer, path: string) => string
  /** those to one chat (tests of a file share a database, so another test's late notes can arrive here) */
  sentTo: (chatId: string) => SentMessage[]
  reactions: { chat_id: unknown; message_id: unknown }[]
  topics: { chat_id: string; name: string; message_thread_id: number }[]
  webhooks: Record<string, unknown>[]
  forumChats: Set<string>
  /** forum topics managers deleted (message_thread_id): posting into one is refused */
  deletedTopics: Set<number>
  /** groups Telegram turned into supergroups (old id → new id): the old id is refused with migrate_to_chat_id */
  migratedChats: Map<string, string>
  /** how methods other than getUpdates answer */
  setMode: (mode: Mode) => void
  /** how getUpdates answers: a 429 with retry_after, or 401 for a revoked token; undefined: as Telegram normally does */
  setUpdatesFailure: (failure: { kind: 'rateLimit'; retryAfter: number } | { kind: 'unauthorized' } | undefined) => void
  /** the next calls of `method` are answered with these errors, one each, in order; later ones as usual */
  refuseNext: (method: string, ...refusals: Refusal[]) => void
  /** runs after a sendMessage is taken (recorded as sent) and before it is answered: a fault between the two */
  setBeforeAnswer: (hook: (m: SentMessage) => Promise<void>) => void
  /** queue an update for getUpdates; returns its update_id */
  pushUpdate: (m: FakeUpdateMessage) => number
  /** queue an update exactly as given (malformed ones too); returns its update_id */
  pushRawUpdate: (body: (updateId: number) => Record<string, unknown>) => number
  updateBody: (updateId: number, m: FakeUpdateMessage) => Record<string, unknown>
  close: () => Promise<void>
}

// Telegram refuses a message longer than this, counted once its HTML is parsed: tags gone, each entity one character
const TELEGRAM_MAX_CHARS = 4096
export const visibleChars = (html: string) => Array.from(html.replace(/<[^>]*>/g, '').replace(/&(?:amp|lt|gt|quot);/g, '&')).length

export async function startBotApi(t: { teardown: (fn: () => unknown) => void }): Promise<BotApiStandIn> {
  let mode: Mode = { kind: 'ok' }
  let updatesFailure: Parameters<BotApiStandIn['setUpdatesFailure']>[0]
  const refusals = new Map<string, Refusal[]>()
  let beforeAnswer = async (_m: SentMessage) => {}
  let nextMessageId = 1000
  // ids keep growing across the tests of a file, which share a database and its stored offset
  let nextUpdateId = Date.now()
  const updates: Record<string, unknown>[] = []
  // getUpdates calls held until an update comes (or their timeout)
  const waiting = new Set<() => void>()
  const sockets = new Set<Socket>()
  const stored = new Map<string, { bytes: Buffer; path: string }>()
  const api: Omit<BotApiStandIn, 'url' | 'close'> = {
    calls: [], sent: [], files: [], reactions: [], topics: [], webhooks: [], forumChats: new Set(), deletedTopics: new Set(), migratedChats: new Map(),
    addFile: (bytes, path) => {
      const fileId = `file-${stored.size + 1}-${randomInt(1e9)}`
      stored.set(fileId, { bytes, path })
      return fileId
    },
    sentTo: (chatId) => api.sent.filter((m) => m.chat_id === chatId),
    setMode: (m) => (mode = m),
    setUpdatesFailure: (f) => (updatesFailure = f),
    refuseNext: (method, ...r) => refusals.set(method, [...(refusals.get(method) ?? []), ...r]),
    setBeforeAnswer: (hook) => (beforeAnswer = hook),
    pushUpdate: (m) => api.pushRawUpdate((id) => api.updateBody(id, m)),
    pushRawUpdate: (body) => {
      const id = nextUpdateId++
      updates.push(body(id))
      for (const answerNow of waiting) answerNow()
      return id
    },
    updateBody: (updateId, m) => ({
      update_id: updateId,
      message: {
        message_id: nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: Number(m.chatId), type: 'supergroup' },
        from: { is_bot: false, ...(m.from ?? { id: 42, first_name: 'Taras', last_name: 'Manager' }) },
        ...media(m),
        ...(m.replyTo ? { reply_to_message: { message_id: m.replyTo } } : {}),
        ...(m.threadId ? { message_thread_id: m.threadId, is_topic_message: true } : {}),
      },
    }),
  }

  function media(m: FakeUpdateMessage): Record<string, unknown> {
    if (m.text !== undefined) return { text: m.text }
    const caption = m.caption === undefined ? {} : { caption: m.caption }
    const sizeOf = (fileId: string) => stored.get(fileId)?.bytes.length
    if (m.photo) return { ...caption, photo: [{ file_id: 'small-' + m.photo, width: 90, height: 90 }, { file_id: m.photo, width: 800, height: 600, file_size: sizeOf(m.photo) }] }
    if (m.document) return { ...caption, document: { file_id: m.document.fileId, file_name: m.document.name, file_size: m.document.size ?? sizeOf(m.document.fileId) } }
    if (m.sticker) return { sticker: { file_id: 'sticker', width: 512, height: 512 } }
    return { photo: [{ file_id: 'missing', width: 90, height: 90 }] }
  }

  function answer(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  function refuse(res: ServerResponse, { status, description, retryAfter }: Refusal) {
    answer(res, status, { ok: false, error_code: status, description, ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }) })
  }
  const rateLimited = (retryAfter: number): Refusal => ({ status: 429, description: `Too Many Requests: retry after ${retryAfter}`, retryAfter })

  function getUpdates(params: Record<string, unknown>, res: ServerResponse) {
    if (updatesFailure?.kind === 'rateLimit') return refuse(res, rateLimited(updatesFailure.retryAfter))
    if (updatesFailure?.kind === 'unauthorized') return refuse(res, { status: 401, description: 'Unauthorized' })
    const offset = Number(params.offset ?? 0)
    // like Telegram: asking from an offset confirms (drops) every earlier update
    while (updates.length && Number(updates[0]?.update_id) < offset) updates.shift()
    const waitMs = Number(params.timeout ?? 0) * 1000
    if (updates.length > 0 || waitMs <= 0) return answer(res, 200, { ok: true, result: updates })
    const answerNow = () => {
      clearTimeout(timer)
      waiting.delete(answerNow)
      if (!res.destroyed) answer(res, 200, { ok: true, result: updates })
    }
    const timer = setTimeout(answerNow, waitMs)
    waiting.add(answerNow)
    res.on('close', () => {
      clearTimeout(timer)
      waiting.delete(answerNow)
    })
  }

  async function handle(method: string, { params, file }: ReceivedBody, res: ServerResponse) {
    const refusal = refusals.get(method)?.shift()
    if (refusal) return refuse(res, refusal)
    if (method === 'getUpdates') return getUpdates(params, res)
    if (mode.kind === 'hang') return undefined
    if (mode.kind === 'error') return refuse(res, { status: 500, description: 'Internal Server Error' })
    if (mode.kind === 'rateLimit') return refuse(res, rateLimited(mode.retryAfter))
    const migratedTo = api.migratedChats.get(String(params.chat_id))
    if (migratedTo !== undefined) {
      return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: Number(migratedTo) } })
    }
    if (api.deletedTopics.has(Number(params.message_thread_id))) return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message thread not found' })
    if (method === 'sendMessage') {
      if (visibleChars(String(params.text)) > TELEGRAM_MAX_CHARS) return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' })
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
      await beforeAnswer(m)
      return answer(res, 200, { ok: true, result: { message_id: m.message_id, chat: { id: Number(m.chat_id) }, text: m.text } })
    }
    if ((method === 'sendPhoto' || method === 'sendDocument') && file) {
      const sent: SentFile = {
        message_id: nextMessageId++,
        method,
        chat_id: String(params.chat_id),
        caption: String(params.caption ?? ''),
        parse_mode: params.parse_mode as string | undefined,
        message_thread_id: params.message_thread_id === undefined ? undefined : Number(params.message_thread_id),
        name: file.filename ?? '',
        contentType: file.contentType ?? '',
        bytes: file.body,
      }
      api.files.push(sent)
      return answer(res, 200, { ok: true, result: { message_id: sent.message_id, chat: { id: Number(sent.chat_id) } } })
    }
    if (method === 'getFile') {
      const fileId = String(params.file_id)
      const known = stored.get(fileId)
      if (!known) return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' })
      return answer(res, 200, { ok: true, result: { file_id: fileId, file_size: known.bytes.length, file_path: known.path } })
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
      if (params.secret_token !== undefined && !/^[\w-]{1,256}$/.test(String(params.secret_token))) {
        return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: secret token contains unallowed characters' })
      }
      api.webhooks.push(params)
      return answer(res, 200, { ok: true, result: true })
    }
    return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
  }

  const server = createServer(async (req, res) => {
    const download = /^\/file\/bot[^/]+\/(.+)$/.exec(req.url ?? '')
    if (download) {
      const file = [...stored.values()].find((f) => f.path === download[1])
      return file ? res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file.bytes) : res.writeHead(404).end()
    }
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '')
    const body = await readBody(req)
    if (!match?.[1] || !match[2]) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
    api.calls.push({ token: match[1], method: match[2], params: body.params, at: Date.now() })
    return handle(match[2], body, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = () => new Promise<void>((resolve) => {
    for (const answerNow of waiting) answerNow()
    for (const s of sockets) s.destroy()
    server.close(() => resolve())
  })
  t.teardown(close)
  return { ...api, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close } as BotApiStandIn
}
