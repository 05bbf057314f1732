import { randomInt } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { updateSite } from '../../src/chat/sites.js'
import { createUser, updateUser } from '../../src/chat/users.js'
import { makeSession, makeSite, type TestSite, uniq } from './fixtures.js'
import type { BotApiStandIn } from './telegram-bot-api.js'
import { waitFor } from './wait.js'

/** The app's side of Telegram in tests: its settings pointed at the stand-in (telegram-bot-api.ts), a bot's site and linked agents. */

export const TEST_BOT_TOKEN = '123456:TEST-token_abc'

/** Retry timings that keep failure tests short, pointed at the stand-in; delivery and update intake run at their defaults (OUTBOX_POLL_MS, long polling). */
export function telegramEnv(standIn: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TELEGRAM_API_URL: standIn.url,
    PUBLIC_URL: 'https://chat.example.com',
    OUTBOX_RETRY_BASE_MS: '20',
    OUTBOX_RETRY_MAX_MS: '200',
    // generous: a send that times out after the stand-in took it is sent again (at-least-once), which would fail exactly-once checks on a busy machine
    OUTBOX_SEND_TIMEOUT_MS: '5000',
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

/** A session whose new-session card has reached the stand-in; returns the card's Telegram message id. */
export async function notifiedSession(app: FastifyInstance, bot: BotApiStandIn) {
  const site = await makeTelegramSite(app)
  const s = await makeSession(app, site, { name: 'Ann' })
  const card = await waitFor('the card', () => bot.sent.find((m) => m.chat_id === site.chatId && m.text.includes(s.id.slice(0, 8))))
  // the worker remembers the card just after Telegram answers; a manager cannot reply sooner
  await waitFor('the card to be remembered', async () => (await app.sql`select 1 from telegram_messages where message_id = ${card.message_id}`).length > 0)
  return { site, s, cardId: card.message_id }
}
