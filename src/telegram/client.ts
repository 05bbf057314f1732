import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
/** A failed Bot API call: the HTTP status, Telegram's description and, on 429, how long to wait. */
export class TelegramError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly retryAfterSeconds?: number,
    /** the group became a supergroup with this id (Telegram's migrate_to_chat_id): the old id is refused from now on */
    readonly migrateToChatId?: number,
  ) {
    super(`Telegram ${status}: ${description}`)
  }

  /** 4xx other than 429 will fail the same way next time (bad token, chat not found, ...). */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 429
  }
}

export type TelegramMessage = {
  message_id: number
  message_thread_id?: number
  is_topic_message?: boolean
  from?: { id: number; is_bot: boolean; first_name: string; last_name?: string; username?: string }
  chat: { id: number; type: string; is_forum?: boolean }
  text?: string
  /** the text of a photo or document message */
  caption?: string
  /** one entry per size Telegram keeps, smallest first */
  photo?: { file_id: string; width: number; height: number; file_size?: number }[]
  document?: { file_id: string; file_name?: string; mime_type?: string; file_size?: number }
  reply_to_message?: { message_id: number }
}

export type TelegramUpdate = { update_id: number; message?: TelegramMessage }

export type SendOptions = { threadId?: number | null; replyTo?: number }

/** A file to upload: its bytes are streamed into the request, never held whole. */
export type OutgoingFile = { name: string; contentType: string; bytes: AsyncIterable<Uint8Array> }

export type BotApi = {
  call: <T>(method: string, params: Record<string, unknown>, timeoutMs?: number) => Promise<T>
  sendHtml: (chatId: string, html: string, opts?: SendOptions) => Promise<TelegramMessage>
  /** sendPhoto or sendDocument (multipart), with an HTML caption */
  sendFile: (chatId: string, as: 'photo' | 'document', file: OutgoingFile, caption: string, opts?: SendOptions) => Promise<TelegramMessage>
  /** a file's bytes by its file_id (getFile, then the file URL); at most `maxBytes` are read */
  download: (fileId: string) => Promise<{ path: string; bytes: AsyncIterable<Uint8Array> }>
}

type ApiAnswer = { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } }

// files go up more slowly than a JSON call
const FILE_TIMEOUT_FACTOR = 6

const CRLF = '\r\n'
// a part name or file name inside a quoted header parameter
const quoted = (s: string) => s.replace(/["\r\n\\]/g, '_')

/** A multipart/form-data body of text fields and one file, produced as it is sent. */
async function* multipart(boundary: string, fields: Record<string, string>, field: string, file: OutgoingFile): AsyncIterable<Uint8Array> {
  const text = (s: string) => Buffer.from(s, 'utf8')
  for (const [name, value] of Object.entries(fields)) {
    yield text(`--${boundary}${CRLF}Content-Disposition: form-data; name="${quoted(name)}"${CRLF}${CRLF}${value}${CRLF}`)
  }
  yield text(`--${boundary}${CRLF}Content-Disposition: form-data; name="${field}"; filename="${quoted(file.name)}"${CRLF}Content-Type: ${file.contentType}${CRLF}${CRLF}`)
  yield* file.bytes
  yield text(`${CRLF}--${boundary}--${CRLF}`)
}

const placement = (opts: SendOptions) => ({
  ...(opts.threadId ? { message_thread_id: opts.threadId } : {}),
  ...(opts.replyTo ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } } : {}),
})

/** The bot's numeric id, the part of the token before the colon; unlike the token, not a secret. */
export const botIdOf = (token: string) => token.split(':')[0] ?? ''

/**
 * Bot API over fetch, against any base URL (Telegram's, a local Bot API server, a test
 * stand-in). The token is part of the URL, so neither the URL nor fetch's error text is
 * ever put into an error message or a log.
 */
export function botApi(baseUrl: string, token: string, defaultTimeoutMs: number, signal?: AbortSignal): BotApi {
  async function request(method: string, timeoutMs: number, url: string, init: RequestInit): Promise<Response> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]
    try {
      return await fetch(url, { ...init, signal: AbortSignal.any(signals) })
    } catch (err) {
      const reason = (err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed'
      throw new TelegramError(0, `${method}: ${reason}`)
    }
  }

  async function answerOf<T>(method: string, res: Response): Promise<T> {
    let answer: ApiAnswer
    try {
      answer = (await res.json()) as ApiAnswer
    } catch {
      throw new TelegramError(res.status || 502, `${method}: answer is not JSON`)
    }
    if (!res.ok || !answer.ok) {
      const { retry_after: retryAfter, migrate_to_chat_id: migrateTo } = answer.parameters ?? {}
      throw new TelegramError(answer.error_code ?? res.status, `${method}: ${answer.description ?? 'failed'}`, retryAfter, migrateTo)
    }
    return answer.result as T
  }

  async function call<T>(method: string, params: Record<string, unknown>, timeoutMs = defaultTimeoutMs): Promise<T> {
    const res = await request(method, timeoutMs, `${baseUrl}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    })
    return answerOf<T>(method, res)
  }

  return {
    call,
    sendHtml: (chatId, html, opts = {}) => call<TelegramMessage>('sendMessage', {
      chat_id: chatId,
      text: html,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...placement(opts),
    }),
    async sendFile(chatId, as, file, caption, opts = {}) {
      const method = as === 'photo' ? 'sendPhoto' : 'sendDocument'
      const boundary = `livechat-${randomBytes(12).toString('hex')}`
      const fields: Record<string, string> = { chat_id: chatId, caption, parse_mode: 'HTML' }
      for (const [k, v] of Object.entries(placement(opts))) fields[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
      const res = await request(method, defaultTimeoutMs * FILE_TIMEOUT_FACTOR, `${baseUrl}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Readable.toWeb(Readable.from(multipart(boundary, fields, as, file))) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit)
      return answerOf<TelegramMessage>(method, res)
    },
    async download(fileId) {
      const { file_path: path } = await call<{ file_path?: string }>('getFile', { file_id: fileId })
      if (!path) throw new TelegramError(400, 'getFile: the file cannot be downloaded (over 20 MB?)')
      const res = await request('download', defaultTimeoutMs * FILE_TIMEOUT_FACTOR, `${baseUrl}/file/bot${token}/${path}`, { method: 'GET' })
      if (!res.ok || !res.body) throw new TelegramError(res.status, 'download failed')
      return { path, bytes: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) }
    },
  }
}
