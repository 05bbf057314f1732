import type { Db } from '../db/client.js'
import { getAttachment, type AttachedFile } from '../chat/attachments.js'
import { getSession } from '../chat/sessions.js'
import type { SecretBox } from '../chat/secret-box.js'
import { getSite, siteBotToken } from '../chat/sites.js'
import { DeliveryError, type Batch, type Deliver } from '../outbox/worker.js'
import type { OutboxRow } from '../outbox/store.js'
import { TelegramError, type BotApi } from './client.js'
import type { FileStores } from '../files/store.js'
import { savedName } from '../files/sniff.js'
import {
  conversationLabel, fitsCaption, formatCaption, formatContactDetails, formatMessage, formatNewSession, formatNotify,
  type ContactCard, type MessageCard, type NewSessionCard, type NotifyCard,
} from './format.js'
import { forgetTopic, moveBotChat, rememberTelegramMessage, setTopic } from './store.js'

export type TelegramDeps = {
  db: Db
  /** opens the sites' sealed bot tokens */
  box: SecretBox
  publicUrl: string
  api: (token: string) => BotApi
  /** where attached files are read from */
  files: FileStores
}

// Telegram shows these as photos (up to 10 MB); other files, and larger ones, go as documents
const PHOTO_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp'])
const MAX_PHOTO_BYTES = 10 * 1000 * 1000

const FORUM_CACHE_MS = 5 * 60_000
// what Telegram answers (400) for a post into a forum topic that was deleted
const TOPIC_GONE = /message thread not found/i

function asDeliveryError(err: unknown): unknown {
  if (!(err instanceof TelegramError)) return err
  return new DeliveryError(err.message, err.permanent, err.retryAfterSeconds === undefined ? undefined : err.retryAfterSeconds * 1000)
}

/**
 * Posts a Telegram outbox row to its site's chat. In a forum supergroup a new conversation
 * first gets its own topic, and everything about it goes there. Each posted message is
 * remembered, so a manager's reply to it finds the conversation.
 */
export function telegramDeliverer({ db, box, publicUrl, api, files }: TelegramDeps): Deliver {
  const forumByChat = new Map<string, { forum: boolean; at: number }>()

  async function isForum(bot: BotApi, chatId: string): Promise<boolean> {
    const known = forumByChat.get(chatId)
    if (known && Date.now() - known.at < FORUM_CACHE_MS) return known.forum
    const chat = await bot.call<{ is_forum?: boolean }>('getChat', { chat_id: chatId })
    forumByChat.set(chatId, { forum: chat.is_forum === true, at: Date.now() })
    return chat.is_forum === true
  }

  /** The conversation's forum topic; null when the chat is not a forum (known without reading the session). */
  async function topicFor(bot: BotApi, chatId: string, sessionId: string): Promise<number | null> {
    if (!(await isForum(bot, chatId))) return null
    const session = await getSession(db, sessionId)
    if (session.telegramThreadId !== null) return session.telegramThreadId
    const topic = await bot.call<{ message_thread_id: number }>('createForumTopic', {
      chat_id: chatId,
      name: conversationLabel(session.id, session.name).slice(0, 128),
    })
    // stored before the card is sent, so a retry of this row reuses the topic
    await setTopic(db, session.id, topic.message_thread_id)
    await rememberTelegramMessage(db, chatId, topic.message_thread_id, { siteId: session.siteId, sessionId: session.id })
    return (await getSession(db, session.id)).telegramThreadId
  }

  /**
   * A message's files as photos or documents, byte for byte as uploaded, the first with the
   * message's text as its caption (a text too long for a caption goes first on its own).
   * False when none of them is left (erased meanwhile).
   */
  async function postFiles(bot: BotApi, chatId: string, siteId: string, card: MessageCard, attached: AttachedFile[], threadId: number | null, batch: Batch): Promise<boolean> {
    const present = (await Promise.all(attached.map(({ id }) => getAttachment(db, id)))).filter((f) => f !== undefined)
    if (present.length === 0) return false
    // recorded after the sends, as for a text (see Batch.record): a lost write must not make the row count as unsent
    const remember = (sent: { message_id: number }) => batch.record(() => rememberTelegramMessage(db, chatId, sent.message_id, { siteId, sessionId: card.sessionId }))
    const textInCaption = fitsCaption(card.text)
    if (!textInCaption) remember(await bot.sendHtml(chatId, formatMessage(card, publicUrl), { threadId }))
    for (const [i, file] of present.entries()) {
      const store = files.byKind[file.storage]
      if (!store) throw new DeliveryError(`attachment ${file.id} is in ${file.storage}, which is not configured`)
      const as = PHOTO_TYPES.has(file.contentType) && file.size <= MAX_PHOTO_BYTES ? 'photo' : 'document'
      const bytes = await store.open(file.id)
      const caption = formatCaption(card, textInCaption && i === 0)
      remember(await bot.sendFile(chatId, as, { name: savedName(file.name, file.contentType), contentType: file.contentType, bytes }, caption, { threadId }))
    }
    return true
  }

  async function post(bot: BotApi, chatId: string, row: OutboxRow, siteName: string, batch: Batch): Promise<void> {
    if (row.kind === 'notify') {
      await bot.sendHtml(chatId, formatNotify({ ...(row.payload as NotifyCard), siteName }))
      return
    }
    if (!row.sessionId) throw new DeliveryError(`${row.kind} without a session`, true)
    const card = { ...row.payload, sessionId: row.sessionId }
    let html: string
    if (row.kind === 'session.created') html = formatNewSession({ ...(card as NewSessionCard), siteName }, publicUrl)
    else if (row.kind === 'message.created') html = formatMessage(card as MessageCard, publicUrl)
    else if (row.kind === 'contact.updated') html = formatContactDetails(card as ContactCard, publicUrl)
    else throw new DeliveryError(`unknown Telegram notification ${row.kind}`, true)
    const { sessionId } = row
    const threadId = await topicFor(bot, chatId, sessionId)
    try {
      const attached = row.kind === 'message.created' ? ((card as { attachments?: AttachedFile[] }).attachments ?? []) : []
      if (attached.length > 0 && await postFiles(bot, chatId, row.siteId, card as MessageCard, attached, threadId, batch)) return
      const sent = await bot.sendHtml(chatId, html, { threadId })
      batch.record(() => rememberTelegramMessage(db, chatId, sent.message_id, { siteId: row.siteId, sessionId }))
    } catch (err) {
      if (threadId === null || !(err instanceof TelegramError && TOPIC_GONE.test(err.description))) throw err
      // a manager deleted the conversation's topic: the row goes again at once, into a new one
      await forgetTopic(db, sessionId, threadId)
      throw new DeliveryError('the conversation\'s topic was deleted: a new one is opened', false, 0)
    }
  }

  return async (row, batch) => {
    const site = await batch.once(`site:${row.siteId}`, () => getSite(db, row.siteId))
    const token = siteBotToken(box, site)
    if (!token || !site.telegramChatId) throw new DeliveryError('Telegram is not configured for this site', true)
    try {
      await post(api(token), site.telegramChatId, row, site.name, batch)
    } catch (err) {
      if (err instanceof TelegramError && err.migrateToChatId !== undefined && site.telegramBotId) {
        // the group became a supergroup: its new id takes over, and the row goes again there at once
        await moveBotChat(db, site.telegramBotId, site.telegramChatId, String(err.migrateToChatId))
        throw new DeliveryError(`the chat is now ${err.migrateToChatId} (a supergroup): sent there next`, false, 0)
      }
      throw asDeliveryError(err)
    }
  }
}
