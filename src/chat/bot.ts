import { sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import type { BotSettings } from '../db/schema.js'
import type { Publisher } from '../realtime/bus.js'
import { appendMessage } from './messages.js'
import { transaction } from './transaction.js'

/**
 * The site's auto-replies: a greeting for a new session, an out-of-hours note, and a
 * follow-up when nobody has answered in time. All off unless their text (or minutes) is set.
 * Bot messages have sender 'bot', so they never count as a first response.
 */

export const DEFAULT_BOT_NAME = 'Bot'
export const DEFAULT_FOLLOW_UP_TEXT = 'Thank you for waiting. Our team has your message and will get back to you as soon as possible.'

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** An IANA zone name this runtime knows (e.g. "Europe/Kyiv"). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

/** Weekday (0 = Sunday) and "HH:MM" at `at` in the time zone; an unknown zone counts as UTC. */
export function localWeekdayAndTime(at: Date, timeZone = 'UTC'): { weekday: number; time: string } {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: isTimeZone(timeZone) ? timeZone : 'UTC', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  })
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]))
  return { weekday: WEEKDAYS.indexOf(parts.weekday ?? 'Sun'), time: `${parts.hour}:${parts.minute}` }
}

/** No hours configured means always open; a day without hours is closed; "22:00"–"06:00" spans midnight. */
export function withinBusinessHours(bot: BotSettings, at: Date): boolean {
  if (!bot.hours) return true
  const { weekday, time } = localWeekdayAndTime(at, bot.timeZone)
  const day = bot.hours[String(weekday) as keyof NonNullable<BotSettings['hours']>]
  if (!day) return false
  const [open, close] = day
  return open <= close ? time >= open && time < close : time >= open || time < close
}

/** Bot messages for a session that has just started, in order. */
export function newSessionReplies(bot: BotSettings | null, at: Date): string[] {
  if (!bot) return []
  const replies: string[] = []
  if (bot.greeting?.trim()) replies.push(bot.greeting)
  if (bot.offHoursText?.trim() && !withinBusinessHours(bot, at)) replies.push(bot.offHoursText)
  return replies
}

export async function appendBotMessages(db: Executor, events: Publisher, sessionId: string, bot: BotSettings | null, texts: string[]): Promise<void> {
  for (const text of texts) {
    await appendMessage(db, events, { sessionId, sender: 'bot', senderName: bot?.name || DEFAULT_BOT_NAME, text })
  }
}

const FOLLOW_UP_BATCH = 100

/**
 * Posts the follow-up in every open session whose visitor has waited longer than the
 * site's followUpMinutes without any agent reply; once per session. Safe with several
 * instances: the marker is set under the session's row lock in the same transaction as the
 * message, and a session already marked is skipped. Returns how many were sent.
 */
export async function sendDueFollowUps(db: Db, events: Publisher, now: Date): Promise<number> {
  const due = await db.execute<{ id: string; bot: BotSettings }>(sql`
    select cs.id, st.bot from chat_sessions cs join sites st on st.id = cs.site_id
    where (st.bot->>'followUpMinutes') is not null and cs.status = 'open' and cs.first_response_at is null and cs.bot_follow_up_at is null
      and cs.last_visitor_message_at <= ${now.toISOString()}::timestamptz - make_interval(mins => (st.bot->>'followUpMinutes')::int)
    limit ${FOLLOW_UP_BATCH}`)
  let sent = 0
  for (const { id, bot } of due) {
    await transaction(db, events, async (tx, txEvents) => {
      const claimed = await tx.execute(sql`
        update chat_sessions set bot_follow_up_at = ${now.toISOString()}::timestamptz
        where id = ${id} and status = 'open' and first_response_at is null and bot_follow_up_at is null returning id`)
      if (claimed.length === 0) return
      await appendBotMessages(tx, txEvents, id, bot, [bot.followUpText?.trim() ? bot.followUpText : DEFAULT_FOLLOW_UP_TEXT])
      sent++
    })
  }
  return sent
}
