import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { chatSessions, sites, telegramMessages } from '../db/schema.js'
import type { Session } from '../chat/sessions.js'
import type { SecretBox } from '../chat/secret-box.js'
import { siteBotToken, type Site } from '../chat/sites.js'

/** Remembers which conversation a Telegram message (or forum topic) belongs to, so replies find it. */
export async function rememberTelegramMessage(db: Executor, chatId: string, messageId: number, session: { siteId: string; sessionId: string }): Promise<void> {
  await db.insert(telegramMessages).values({ chatId, messageId, ...session }).onConflictDoNothing()
}

/**
 * Deletes up to `batch` message links older than `maxDays`: a manager's Telegram reply to a
 * message that old no longer finds its conversation (the bot says so), and the table stays bounded.
 */
export async function deleteOldTelegramLinks(db: Executor, maxDays: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from telegram_messages where (chat_id, message_id) in (
      select chat_id, message_id from telegram_messages where created_at < now() - make_interval(days => ${maxDays}) limit ${batch})
    returning 1`)
  return rows.length
}

/** The conversation of a Telegram message, among the sites of the bot's chat (the lookup names them: one shard per site on Citus). */
export async function sessionOfTelegramMessage(db: Executor, siteIds: string[], chatId: string, messageId: number): Promise<Session | undefined> {
  if (siteIds.length === 0) return undefined
  const [row] = await db.select({ session: chatSessions }).from(telegramMessages)
    .innerJoin(chatSessions, and(eq(chatSessions.id, telegramMessages.sessionId), eq(chatSessions.siteId, telegramMessages.siteId)))
    .where(and(inArray(telegramMessages.siteId, siteIds), eq(telegramMessages.chatId, chatId), eq(telegramMessages.messageId, messageId)))
  return row?.session
}

export async function sessionOfTopic(db: Executor, siteIds: string[], threadId: number): Promise<Session | undefined> {
  if (siteIds.length === 0) return undefined
  const [s] = await db.select().from(chatSessions)
    .where(and(inArray(chatSessions.siteId, siteIds), eq(chatSessions.telegramThreadId, threadId)))
  return s
}

/** Forgets the conversation's forum topic (deleted in Telegram), so that its next note opens a new one. */
export async function forgetTopic(db: Executor, sessionId: string, threadId: number): Promise<void> {
  await db.update(chatSessions).set({ telegramThreadId: null })
    .where(and(eq(chatSessions.id, sessionId), eq(chatSessions.telegramThreadId, threadId)))
}

/** Sets the conversation's forum topic unless it already has one (a concurrent retry may have set it). */
export async function setTopic(db: Executor, sessionId: string, threadId: number): Promise<void> {
  await db.update(chatSessions).set({ telegramThreadId: threadId })
    .where(and(eq(chatSessions.id, sessionId), isNull(chatSessions.telegramThreadId)))
}

/**
 * Points the sites that post to `from` with this bot at `to`: Telegram turned their group into a
 * supergroup (forum topics turned on, for one), and refuses the old id from then on.
 */
export async function moveBotChat(db: Executor, botId: string, from: string, to: string): Promise<void> {
  await db.update(sites).set({ telegramChatId: to, updatedAt: sql`now()` })
    .where(and(eq(sites.telegramBotId, botId), eq(sites.telegramChatId, from)))
}

/** Sites that post to this chat with this bot (the bot is known by its id, the token's public part). */
export async function sitesOfBotChat(db: Executor, botId: string, chatId: string): Promise<Site[]> {
  return db.select().from(sites).where(and(eq(sites.telegramBotId, botId), eq(sites.telegramChatId, chatId)))
}

/** Distinct bot tokens (in the clear) of all sites with Telegram configured. */
export async function configuredBotTokens(db: Executor, box: SecretBox): Promise<string[]> {
  const rows = await db.select({ telegramBotToken: sites.telegramBotToken }).from(sites).where(isNotNull(sites.telegramBotToken))
  return [...new Set(rows.flatMap((r) => siteBotToken(box, r) ?? []))]
}
