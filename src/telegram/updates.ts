import { sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { messageWithoutValues } from '../db/query-errors.js'
import type { Publisher } from '../realtime/bus.js'
import { transaction } from '../chat/transaction.js'
import { discardAttachment, storeAttachment, type AttachedFile } from '../chat/attachments.js'
import { ChatError } from '../chat/errors.js'
import type { FileStores } from '../files/store.js'
import { appendMessage, assertMessageText, type OfflineEmailPolicy } from '../chat/messages.js'
import { assignSession } from '../chat/assignment.js'
import { closeSession, type Session } from '../chat/sessions.js'
import { findUserByTelegramId, getUser, type User } from '../chat/users.js'
import { canSee } from '../chat/visibility.js'
import { botIdOf, TelegramError, type BotApi, type TelegramMessage, type TelegramUpdate } from './client.js'
import { escapeHtml, formatInfo } from './format.js'
import { sessionOfTelegramMessage, sessionOfTopic, sitesOfBotChat } from './store.js'

/**
 * Turns managers' Telegram messages into chat actions. A reply to a notification (or any
 * message in a conversation's forum topic) becomes an agent message; /close, /take and
 * /info act on that conversation. Anything else is ignored, so chatter in the group never
 * reaches a visitor. Only agents linked by their Telegram user id may answer or close, and
 * only on the sites they see (as in the dashboard), unless the site lets any unlinked member
 * of the group do so (telegram.anyMember).
 */

export type UpdateDeps = {
  db: Db
  events: Publisher
  publicUrl: string
  /** a Bot API client for this token; the signal aborts its calls (app shutdown) */
  api: (token: string, signal?: AbortSignal) => BotApi
  log: { warn: (obj: object, msg: string) => void }
  /** where photos and documents managers send are stored, and the largest accepted */
  files: FileStores
  maxFileBytes: number
  /** replies to away visitors are emailed (undefined when email is off) */
  offlineEmail?: OfflineEmailPolicy
}

/** A manager's photo or document, fetched and checked like an upload before the update's transaction. */
type FetchedMedia = { attachment: AttachedFile } | { refused: string }

/** What to tell the manager once the update's changes are committed. */
type Answer = { kind: 'ack' } | { kind: 'text'; html: string }

const offsetKey = (botId: string) => `telegram_offset:${botId}`

/**
 * How a bot's updates arrive. getUpdates hands them out in order, so the stored offset tells
 * which were handled. Telegram's webhook posts updates of different chats side by side, and
 * retries a failed one later while the others go on, so a later update can be handled first:
 * there each update is claimed by its own id, and the offset would drop the earlier one.
 */
export type Intake = 'poll' | 'webhook'

const WEBHOOK_UPDATE_PREFIX = 'telegram_update:'
const webhookUpdateKey = (botId: string, updateId: number) => `${WEBHOOK_UPDATE_PREFIX}${botId}:${updateId}`
// Telegram gives up redelivering an update after a day
const WEBHOOK_UPDATE_KEEP_HOURS = 48

/** The next update id to ask getUpdates for (Telegram's `offset`). */
export async function storedOffset(db: Executor, botId: string): Promise<number> {
  const rows = await db.execute<{ value: string }>(sql`select value from app_settings where key = ${offsetKey(botId)}`)
  return Number(rows[0]?.value ?? 0)
}

/**
 * Claims the update for this transaction: polling moves the stored offset past it unless it
 * already is; a webhook marks its id (and leaves alone what getUpdates handled before a switch).
 * True for the one transaction that gets to handle the update, false for a replay (a webhook
 * redelivery, or a getUpdates answer another reader has already handled).
 */
async function claimUpdate(db: Executor, botId: string, updateId: number, intake: Intake = 'poll'): Promise<boolean> {
  if (intake === 'webhook') {
    if (await storedOffset(db, botId) > updateId) return false
    const rows = await db.execute(sql`
      insert into app_settings (key, value) values (${webhookUpdateKey(botId, updateId)}, 'handled')
      on conflict (key) do nothing returning key`)
    return rows.length > 0
  }
  const next = String(updateId + 1)
  const rows = await db.execute(sql`
    insert into app_settings (key, value) values (${offsetKey(botId)}, ${next})
    on conflict (key) do update set value = excluded.value, updated_at = now()
    where app_settings.value::bigint < excluded.value::bigint
    returning key`)
  return rows.length > 0
}

/**
 * Whether an update was handled already. What getUpdates handled stays handled in webhook
 * mode too: after a switch, Telegram redelivers the updates it was not yet told of.
 */
async function handledBefore(db: Executor, botId: string, updateId: number, intake: Intake): Promise<boolean> {
  if (await storedOffset(db, botId) > updateId) return true
  if (intake === 'poll') return false
  const rows = await db.execute(sql`select 1 from app_settings where key = ${webhookUpdateKey(botId, updateId)}`)
  return rows.length > 0
}

/** Deletes up to `batch` marks of webhook updates older than Telegram redelivers them (the retention job). */
export async function deleteOldWebhookUpdateMarks(db: Executor, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from app_settings where key in (
      select key from app_settings
      where key like ${`${WEBHOOK_UPDATE_PREFIX}%`} and updated_at < now() - make_interval(hours => ${WEBHOOK_UPDATE_KEEP_HOURS})
      limit ${batch})
    returning 1`)
  return rows.length
}

/**
 * Gives up on an update that keeps failing: it is claimed (the offset moves past it, or its
 * webhook mark is written) in a transaction of its own, so one bad update cannot block a bot's
 * later ones.
 */
export async function skipUpdate(db: Executor, botId: string, updateId: number, intake: Intake = 'poll'): Promise<void> {
  await claimUpdate(db, botId, updateId, intake)
}

const managerName = (from: TelegramMessage['from']) =>
  from ? [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || 'Manager' : 'Manager'

async function conversationOf(db: Executor, msg: TelegramMessage, siteIds: string[]): Promise<Session | undefined> {
  const chatId = String(msg.chat.id)
  const replied = msg.reply_to_message && await sessionOfTelegramMessage(db, siteIds, chatId, msg.reply_to_message.message_id)
  if (replied) return replied
  if (msg.is_topic_message && msg.message_thread_id) return sessionOfTopic(db, siteIds, msg.message_thread_id)
  return undefined
}

/** Who wrote: the agent linked to this Telegram account, if any, and whether the site lets anyone else act. */
type Author = { agent: User | undefined; anyMember: boolean }

const notLinked = (msg: TelegramMessage): Answer => ({
  kind: 'text',
  html: `Only agents linked to their Telegram account can answer visitors or close conversations here. An admin can link yours by setting your Telegram user id (<code>${msg.from?.id ?? '?'}</code>) on your user in the dashboard.`,
})

/**
 * Why this author may not answer or close the conversation, if they may not: a linked agent
 * reaches only the sites they see, as in the dashboard; an unlinked member only where the
 * site's admin lets any member act (they have no team to check).
 */
function refusal(msg: TelegramMessage, session: Session, author: Author, notDone: string): Answer | undefined {
  if (!author.agent) return author.anyMember ? undefined : notLinked(msg)
  if (canSee(author.agent, session.siteId)) return undefined
  return { kind: 'text', html: `${notDone}: ${escapeHtml(author.agent.name)} does not work on this conversation's site.` }
}

async function runCommand(db: Executor, events: Publisher, command: string, msg: TelegramMessage, session: Session, author: Author, publicUrl: string): Promise<Answer> {
  if (command === 'info') {
    const assignee = session.assignedTo ? await getUser(db, session.assignedTo) : undefined
    return { kind: 'text', html: formatInfo({ ...session, assignedToName: assignee?.name, labels: session.labels }, publicUrl) }
  }
  if (command === 'close') {
    const refused = refusal(msg, session, author, 'Not closed')
    if (refused) return refused
    const wasOpen = session.status === 'open'
    await closeSession(db, events, session.id)
    return { kind: 'text', html: wasOpen ? '✅ Conversation closed; the visitor sees it as ended.' : 'This conversation was already closed.' }
  }
  if (command === 'take') {
    const user = author.agent
    if (!user) {
      return { kind: 'text', html: `Your Telegram account is not linked to an agent. An admin can link it by setting your Telegram user id (<code>${msg.from?.id ?? '?'}</code>) on your user in the dashboard.` }
    }
    try {
      // the dashboard's "Assign to me": the same operation, the same rules (the agent's sites)
      await assignSession(db, events, user, session.id, user.id, { id: user.id, name: user.name })
    } catch (err) {
      if (err instanceof ChatError && err.status < 500) return { kind: 'text', html: `Not assigned: ${escapeHtml(user.name)} does not work on this conversation's site.` }
      throw err
    }
    return { kind: 'text', html: `🙋 Assigned to ${escapeHtml(user.name)}.` }
  }
  return { kind: 'text', html: 'Unknown command. In a conversation: /info, /take or /close; any other text is sent to the visitor.' }
}

async function forwardReply(db: Executor, events: Publisher, msg: TelegramMessage, text: string, session: Session, author: Author, offlineEmail?: OfflineEmailPolicy, attachment?: AttachedFile): Promise<Answer> {
  const refused = refusal(msg, session, author, 'Not sent')
  if (refused) return refused
  try {
    assertMessageText(text, 'text', attachment !== undefined)
  } catch (err) {
    if (err instanceof ChatError) return { kind: 'text', html: `Not sent: ${escapeHtml(err.message)}.` }
    throw err
  }
  const stored = session.status === 'open' && await appendMessage(db, events, {
    sessionId: session.id, sender: 'agent', senderName: author.agent?.name ?? managerName(msg.from), agentId: author.agent?.id ?? null, text, offlineEmail,
    ...(attachment ? { attachments: [attachment.id] } : {}),
  })
  if (!stored) return { kind: 'text', html: '⚠️ This conversation is closed; the visitor did not get your reply.' }
  return { kind: 'ack' }
}

// what managers may send that has no text to forward
const MEDIA_FIELDS = ['photo', 'document', 'sticker', 'voice', 'video', 'audio', 'animation', 'video_note'] as const

/** The conversation a manager's message answers, when it comes from a chat one of our sites posts to. */
async function sessionOfReply(db: Executor, botId: string, msg: TelegramMessage): Promise<Session | undefined> {
  const sites = await sitesOfBotChat(db, botId, String(msg.chat.id))
  return sites.length === 0 ? undefined : conversationOf(db, msg, sites.map((s) => s.id))
}

/**
 * A photo (its largest size) or document a manager sent in an open conversation, downloaded
 * (getFile) and checked like an upload: it is in the store before the update's transaction,
 * which then only links it. Undefined when the message has neither or answers no open conversation.
 */
async function fetchMedia(deps: UpdateDeps, token: string, update: TelegramUpdate, intake: Intake): Promise<FetchedMedia | undefined> {
  const msg = update.message
  const media = msg?.photo?.at(-1) ?? msg?.document
  if (!msg || !media || msg.from?.is_bot) return undefined
  // a replay (webhook redelivery) is not downloaded again
  if (await handledBefore(deps.db, botIdOf(token), update.update_id, intake)) return undefined
  const session = await sessionOfReply(deps.db, botIdOf(token), msg)
  if (session?.status !== 'open') return undefined
  if (media.file_size !== undefined && media.file_size > deps.maxFileBytes) return { refused: `the file is larger than ${deps.maxFileBytes} bytes` }
  try {
    const { path, bytes } = await deps.api(token).download(media.file_id)
    const name = msg.document?.file_name ?? path.split('/').pop()
    const attachment = await storeAttachment(deps.db, deps.files, { sessionId: session.id, uploader: 'staff', name, bytes, maxBytes: deps.maxFileBytes })
    return { attachment }
  } catch (err) {
    if (err instanceof ChatError) return { refused: err.message }
    // Telegram will refuse this file every time (gone, over its 20 MB bot limit): say so rather than retry forever
    if (err instanceof TelegramError && err.permanent) return { refused: 'the file could not be downloaded from Telegram' }
    throw err
  }
}

async function handleMessage(db: Executor, events: Publisher, botId: string, msg: TelegramMessage, deps: Pick<UpdateDeps, 'publicUrl' | 'offlineEmail'>, media?: FetchedMedia): Promise<Answer | undefined> {
  if (msg.from?.is_bot) return undefined
  const isMedia = MEDIA_FIELDS.some((field) => field in msg)
  if (msg.text === undefined && !isMedia) return undefined
  const sites = await sitesOfBotChat(db, botId, String(msg.chat.id))
  if (sites.length === 0) return undefined
  const session = await conversationOf(db, msg, sites.map((s) => s.id))
  const command = msg.text === undefined ? undefined : /^\/([a-z_]+)(?:@\w+)?(?:\s|$)/i.exec(msg.text)?.[1]?.toLowerCase()
  if (!session) {
    return command ? { kind: 'text', html: 'Send commands as a reply to a conversation\'s notification, or in its topic.' } : undefined
  }
  // anyone who is in the group could otherwise speak to visitors as the company
  const author: Author = {
    agent: msg.from && await findUserByTelegramId(db, msg.from.id),
    anyMember: sites.find((s) => s.id === session.siteId)?.telegramAnyMember === true,
  }
  if (msg.text === undefined) {
    if (media && 'attachment' in media) return forwardReply(db, events, msg, msg.caption ?? '', session, author, deps.offlineEmail, media.attachment)
    if (media) return { kind: 'text', html: `Not sent: ${escapeHtml(media.refused)}.` }
    return { kind: 'text', html: session.status === 'open' ? 'Not sent: only text, photos and documents reach the visitor.' : '⚠️ This conversation is closed; the visitor did not get your reply.' }
  }
  return command ? runCommand(db, events, command, msg, session, author, deps.publicUrl) : forwardReply(db, events, msg, msg.text, session, author, deps.offlineEmail)
}

/**
 * Handles one update exactly once: the offset moves in the same transaction as what the
 * update changes, and the manager is answered (a reaction, or a short note) only after
 * that commits, so an acknowledged reply is a stored reply.
 */
export async function processUpdate(deps: UpdateDeps, token: string, update: TelegramUpdate, intake: Intake = 'poll'): Promise<void> {
  const botId = botIdOf(token)
  const msg = update.message
  // a download waits for Telegram: never inside a transaction
  const media = await fetchMedia(deps, token, update, intake)
  const fetched = media && 'attachment' in media ? media.attachment : undefined
  let answer: Answer | undefined
  try {
    answer = await transaction(deps.db, deps.events, async (tx, events) => {
      if (!(await claimUpdate(tx, botId, update.update_id, intake))) return undefined
      return msg && handleMessage(tx, events, botId, msg, deps, media)
    })
  } finally {
    // a replayed update, a closed conversation or a failure: the file went to no message
    if (fetched && answer?.kind !== 'ack') await discardAttachment(deps.db, fetched.id)
  }
  if (!answer || !msg) return
  try {
    await sendAnswer(deps.api(token), msg, answer)
  } catch (err) {
    // the update is handled and stays handled; only the manager's feedback is lost
    deps.log.warn({ err: messageWithoutValues(err), updateId: update.update_id }, 'could not answer in Telegram')
  }
}

async function sendAnswer(api: BotApi, msg: TelegramMessage, answer: Answer): Promise<void> {
  const where = { threadId: msg.is_topic_message ? msg.message_thread_id : undefined, replyTo: msg.message_id }
  if (answer.kind === 'text') {
    await api.sendHtml(String(msg.chat.id), answer.html, where)
    return
  }
  try {
    await api.call('setMessageReaction', { chat_id: msg.chat.id, message_id: msg.message_id, reaction: [{ type: 'emoji', emoji: '👍' }] })
  } catch {
    // reactions can be turned off in a chat; a short note says the same
    await api.sendHtml(String(msg.chat.id), '✓ Sent to the visitor.', where)
  }
}
