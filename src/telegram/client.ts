/** A failed Bot API call: the HTTP status, Telegram's description and, on 429, how long to wait. */
export class TelegramError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly retryAfterSeconds?: number,
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
  reply_to_message?: { message_id: number }
}

export type TelegramUpdate = { update_id: number; message?: TelegramMessage }

export type SendOptions = { threadId?: number | null; replyTo?: number }

export type BotApi = {
  call: <T>(method: string, params: Record<string, unknown>, timeoutMs?: number) => Promise<T>
  sendHtml: (chatId: string, html: string, opts?: SendOptions) => Promise<TelegramMessage>
}

type ApiAnswer = { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: { retry_after?: number } }

/** The bot's numeric id, the part of the token before the colon; unlike the token, not a secret. */
export const botIdOf = (token: string) => token.split(':')[0] ?? ''

/**
 * Bot API over fetch, against any base URL (Telegram's, a local Bot API server, a test
 * stand-in). The token is part of the URL, so neither the URL nor fetch's error text is
 * ever put into an error message or a log.
 */
export function botApi(baseUrl: string, token: string, defaultTimeoutMs: number, signal?: AbortSignal): BotApi {
  async function call<T>(method: string, params: Record<string, unknown>, timeoutMs = defaultTimeoutMs): Promise<T> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]
    let res: Response
    try {
      res = await fetch(`${baseUrl}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.any(signals),
      })
    } catch (err) {
      const reason = (err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed'
      throw new TelegramError(0, `${method}: ${reason}`)
    }
    let answer: ApiAnswer
    try {
      answer = (await res.json()) as ApiAnswer
    } catch {
      throw new TelegramError(res.status || 502, `${method}: answer is not JSON`)
    }
    if (!res.ok || !answer.ok) {
      throw new TelegramError(answer.error_code ?? res.status, `${method}: ${answer.description ?? 'failed'}`, answer.parameters?.retry_after)
    }
    return answer.result as T
  }

  return {
    call,
    sendHtml: (chatId, html, opts = {}) => call<TelegramMessage>('sendMessage', {
      chat_id: chatId,
      text: html,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(opts.threadId ? { message_thread_id: opts.threadId } : {}),
      ...(opts.replyTo ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } } : {}),
    }),
  }
}
