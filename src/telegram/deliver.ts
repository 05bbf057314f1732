import type { Db } from '../db/client.js'
import { getSession, type Session } from '../chat/sessions.js'
import type { SecretBox } from '../chat/secret-box.js'
import { getSite, siteBotToken } from '../chat/sites.js'
import { DeliveryError, type Deliver } from '../outbox/worker.js'
import type { OutboxRow } from '../outbox/store.js'
import { TelegramError, type BotApi } from './client.js'
import {
  conversationLabel, formatContactDetails, formatMessage, formatNewSession, formatNotify,
  type ContactCard, type MessageCard, type NewSessionCard, type NotifyCard,
} from './format.js'
import { rememberTelegramMessage, setTopic } from './store.js'

export type TelegramDeps = {
  db: Db
  /** opens the sites' sealed bot tokens */
  box: SecretBox
  publicUrl: string
  api: (token: string) => BotApi
}

const FORUM_CACHE_MS = 5 * 60_000

function asDeliveryError(err: unknown): unknown {
  if (!(err instanceof TelegramError)) return err
  return new DeliveryError(err.message, err.permanent, err.retryAfterSeconds === undefined ? undefined : err.retryAfterSeconds * 1000)
}

/**
 * Posts a Telegram outbox row to its site's chat. In a forum supergroup a new conversation
 * first gets its own topic, and everything about it goes there. Each posted message is
 * remembered, so a manager's reply to it finds the conversation.
 */
export function telegramDeliverer({ db, box, publicUrl, api }: TelegramDeps): Deliver {
  const forumByChat = new Map<string, { forum: boolean; at: number }>()

  async function isForum(bot: BotApi, chatId: string): Promise<boolean> {
    const known = forumByChat.get(chatId)
    if (known && Date.now() - known.at < FORUM_CACHE_MS) return known.forum
    const chat = await bot.call<{ is_forum?: boolean }>('getChat', { chat_id: chatId })
    forumByChat.set(chatId, { forum: chat.is_forum === true, at: Date.now() })
    return chat.is_forum === true
  }

  async function topicFor(bot: BotApi, chatId: string, session: Session): Promise<number | null> {
    if (session.telegramThreadId !== null) return session.telegramThreadId
    if (!(await isForum(bot, chatId))) return null
    const topic = await bot.call<{ message_thread_id: number }>('createForumTopic', {
      chat_id: chatId,
      name: conversationLabel(session.id, session.name).slice(0, 128),
    })
    // stored before the card is sent, so a retry of this row reuses the topic
    await setTopic(db, session.id, topic.message_thread_id)
    await rememberTelegramMessage(db, chatId, topic.message_thread_id, session.id)
    return (await getSession(db, session.id)).telegramThreadId
  }

  async function post(bot: BotApi, chatId: string, row: OutboxRow, siteName: string): Promise<void> {
    if (row.kind === 'notify') {
      await bot.sendHtml(chatId, formatNotify({ ...(row.payload as NotifyCard), siteName }))
      return
    }
    if (!row.sessionId) throw new DeliveryError(`${row.kind} without a session`, true)
    const session = await getSession(db, row.sessionId)
    const card = { ...row.payload, sessionId: session.id }
    let html: string
    if (row.kind === 'session.created') html = formatNewSession({ ...(card as NewSessionCard), siteName }, publicUrl)
    else if (row.kind === 'message.created') html = formatMessage(card as MessageCard, publicUrl)
    else if (row.kind === 'contact.updated') html = formatContactDetails(card as ContactCard, publicUrl)
    else throw new DeliveryError(`unknown Telegram notification ${row.kind}`, true)
    const threadId = await topicFor(bot, chatId, session)
    const sent = await bot.sendHtml(chatId, html, { threadId })
    await rememberTelegramMessage(db, chatId, sent.message_id, session.id)
  }

  return async (row) => {
    const site = await getSite(db, row.siteId)
    const token = siteBotToken(box, site)
    if (!token || !site.telegramChatId) throw new DeliveryError('Telegram is not configured for this site', true)
    try {
      await post(api(token), site.telegramChatId, row, site.name)
    } catch (err) {
      throw asDeliveryError(err)
    }
  }
}
