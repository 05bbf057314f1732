import type { Message } from './messages.js'
import type { Session } from './sessions.js'
import type { Site } from './sites.js'
import { visitorLocale, visitorText, type VisitorLocale } from './visitor-texts.js'

/**
 * The conversation as the visitor saw it, as plain text: every message of the session (notes
 * live in their own table and never come here), oldest first, times in UTC.
 */

/** "2026-11-24 10:15 UTC" */
export const utcMinute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`

export function senderLabel(m: Pick<Message, 'sender' | 'senderName'>, locale: VisitorLocale): string {
  if (m.sender === 'visitor') return visitorText(locale, 'you')
  return m.senderName || visitorText(locale, m.sender)
}

const SIZE_UNITS = ['B', 'kB', 'MB'] as const

/** "842 B", "12.3 kB", "1.5 MB" */
function fileSize(bytes: number): string {
  let value = bytes
  let unit = 0
  for (; value >= 1000 && unit < SIZE_UNITS.length - 1; unit++) value /= 1000
  return `${unit === 0 ? value : value.toFixed(1)} ${SIZE_UNITS[unit]}`
}

/**
 * A message as text: what was typed, then a line per attached file with its name and size (a
 * file-only message would otherwise read as empty; the signed link is left out, it expires
 * within the hour while an email is read later, and the email's own link reopens the chat).
 */
export function messageText(m: Pick<Message, 'text' | 'attachments'>, locale: VisitorLocale): string {
  const files = m.attachments.map((f) => visitorText(locale, 'file', { name: f.name, size: fileSize(f.size) }))
  return [m.text, ...files].filter((line) => line !== '').join('\n')
}

export function transcriptText(site: Pick<Site, 'name'>, session: Pick<Session, 'createdAt' | 'locale'>, messages: Message[]): string {
  const locale = visitorLocale(session.locale)
  const lines = [
    visitorText(locale, 'transcriptTitle', { site: site.name }),
    visitorText(locale, 'started', { time: utcMinute(session.createdAt) }),
    '',
  ]
  for (const m of messages) {
    // continuation lines are indented, so a message cannot pass itself off as another one
    lines.push(`[${utcMinute(m.createdAt)}] ${senderLabel(m, locale)}: ${messageText(m, locale).replace(/\r\n?|\n/g, '\n    ')}`)
  }
  return lines.join('\n') + '\n'
}
