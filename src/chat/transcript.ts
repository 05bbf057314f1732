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

export function transcriptText(site: Pick<Site, 'name'>, session: Pick<Session, 'createdAt' | 'locale'>, messages: Message[]): string {
  const locale = visitorLocale(session.locale)
  const lines = [
    visitorText(locale, 'transcriptTitle', { site: site.name }),
    visitorText(locale, 'started', { time: utcMinute(session.createdAt) }),
    '',
  ]
  for (const m of messages) {
    // continuation lines are indented, so a message cannot pass itself off as another one
    lines.push(`[${utcMinute(m.createdAt)}] ${senderLabel(m, locale)}: ${m.text.replace(/\r\n?|\n/g, '\n    ')}`)
  }
  return lines.join('\n') + '\n'
}
