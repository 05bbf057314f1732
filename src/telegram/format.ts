/**
 * What the managers see in Telegram. Messages use HTML parse mode; every string that came
 * from a visitor goes through escapeHtml, so `<b>` typed by a visitor shows as text.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

// line breaks (CR, LF, U+2028/9), other control characters, and direction overrides and isolates
// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
const LINE_BREAKING = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g

/**
 * A contact detail as one line of a card: a visitor's name or page, stored as sent, could
 * otherwise add lines of its own ("📞 +1 555 0100", "🙋 assigned to …") that managers cannot
 * tell from the real ones, or reverse the rest of its line.
 */
const oneLine = (s: string) => s.replace(LINE_BREAKING, ' ').trim()

// Telegram refuses (400, for good) a message longer than this, counted once its HTML is parsed
const TELEGRAM_MAX_CHARS = 4096
const MAX_QUOTED_CHARS = 3500

function clip(text: string, maxChars = MAX_QUOTED_CHARS): string {
  const chars = Array.from(text)
  return chars.length <= maxChars ? text : chars.slice(0, maxChars).join('') + '…'
}

/** What Telegram counts against its limit: the text without tags, each entity one character. */
const visibleChars = (html: string) => Array.from(html.replace(/<[^>]*>/g, '').replace(/&(?:amp|lt|gt|quot);/g, '&')).length

/**
 * A visitor's text set apart in a quote block: its lines may look exactly like a card's own
 * ("📞 +1 555 0100"), and may not add lines of their own to the card, so they stay visibly inside it.
 */
// no text (a message whose files were erased before delivery): no empty quote block in the card
const quote = (text: string) => text === '' ? '' : `<blockquote>${escapeHtml(text)}</blockquote>`

/**
 * A card's lines with a visitor's text quoted at line `at`: the text is cut at
 * MAX_QUOTED_CHARS, and shorter when the other lines (a 2,048-character page address, a long
 * email) need the room, so that the card stays within Telegram's limit and is not refused.
 */
function withQuote(lines: string[], at: number, text: string): string {
  // the rest of the card, the quote's line break and the ellipsis of a cut text
  const room = TELEGRAM_MAX_CHARS - visibleChars(lines.join('\n')) - 2
  const quoted = quote(clip(text, Math.min(MAX_QUOTED_CHARS, room)))
  return [...lines.slice(0, at), quoted, ...lines.slice(at)].join('\n')
}

export type ContactFields = {
  name?: string | null
  phone?: string | null
  email?: string | null
  pageUrl?: string | null
  locale?: string | null
}

const CONTACT_LABELS: [keyof ContactFields, string][] = [
  ['name', '👤'],
  ['phone', '📞'],
  ['email', '✉️'],
  ['pageUrl', '🌐'],
  ['locale', '🗣'],
]

function contactLines(c: ContactFields): string[] {
  return CONTACT_LABELS.flatMap(([key, icon]) => {
    const value = c[key]
    const line = value && oneLine(value)
    return line ? [`${icon} ${escapeHtml(line)}`] : []
  })
}

export const dashboardLink = (publicUrl: string, sessionId: string) => `${publicUrl}/admin#/sessions/${sessionId}`

const openLink = (publicUrl: string, sessionId: string) =>
  `<a href="${escapeHtml(dashboardLink(publicUrl, sessionId))}">Open in dashboard</a>`

/** A short, stable label for a conversation: the visitor's name or "Visitor", and the id's first characters. */
export function conversationLabel(sessionId: string, name?: string | null): string {
  return `${(name && oneLine(name)) || 'Visitor'} · #${sessionId.slice(0, 8)}`
}

export type NewSessionCard = ContactFields & { sessionId: string; siteName: string; firstMessage?: string | null }

export function formatNewSession(card: NewSessionCard, publicUrl: string): string {
  const lines = [`🆕 <b>New chat</b> on ${escapeHtml(card.siteName)} · #${card.sessionId.slice(0, 8)}`, ...contactLines(card), '']
  const footer = ['', `${openLink(publicUrl, card.sessionId)} · reply to this message to answer`]
  if (!card.firstMessage) return [...lines.slice(0, -1), ...footer].join('\n')
  return withQuote([...lines, ...footer], lines.length, card.firstMessage)
}

export type MessageCard = { sessionId: string; sender?: string; name?: string | null; text: string }

/** A visitor's message, or (sender 'agent') a reply written in the dashboard, so managers in Telegram see it too. */
export function formatMessage(card: MessageCard, publicUrl: string): string {
  const heading = card.sender === 'agent'
    ? `↪️ <b>${escapeHtml(card.name || 'Agent')}</b> (dashboard) · #${card.sessionId.slice(0, 8)}`
    : `💬 <b>${escapeHtml(conversationLabel(card.sessionId, card.name))}</b>`
  return withQuote([heading, '', openLink(publicUrl, card.sessionId)], 1, card.text)
}

// Telegram caps captions at 1024 characters
const MAX_CAPTION_QUOTE_CHARS = 800

/** Whether a message's text fits in a file's caption (else it goes as a message of its own). */
export const fitsCaption = (text: string) => Array.from(text.trim()).length <= MAX_CAPTION_QUOTE_CHARS

/**
 * The caption of a photo or document from a conversation: who sent it and, on the first
 * file, the message's text. Short enough for Telegram's caption limit.
 */
export function formatCaption(card: MessageCard, withText: boolean): string {
  const heading = card.sender === 'agent'
    ? `↪️ <b>${escapeHtml(card.name || 'Agent')}</b> (dashboard) · #${card.sessionId.slice(0, 8)}`
    : `📎 <b>${escapeHtml(conversationLabel(card.sessionId, card.name))}</b>`
  const chars = Array.from(card.text.trim())
  if (!withText || chars.length === 0) return heading
  return `${heading}\n${quote(clip(chars.join(''), MAX_CAPTION_QUOTE_CHARS))}`
}

export type ContactCard = ContactFields & { sessionId: string }

export function formatContactDetails(card: ContactCard, publicUrl: string): string {
  return [`📇 <b>Contact details</b> · #${card.sessionId.slice(0, 8)}`, ...contactLines(card), '', openLink(publicUrl, card.sessionId)].join('\n')
}

export type NotifyCard = { siteName: string; name?: string | null; phone?: string | null; message?: string | null; pageUrl?: string | null }

export function formatNotify(card: NotifyCard): string {
  const lines = [`🔔 <b>Request from ${escapeHtml(card.siteName)}</b>`, ...contactLines(card)]
  return card.message ? withQuote([...lines, ''], lines.length + 1, card.message) : lines.join('\n')
}

export type SessionInfo = ContactFields & { id: string; status: string; createdAt: Date; assignedToName?: string | null; labels?: readonly string[] }

export function formatInfo(s: SessionInfo, publicUrl: string): string {
  const lines = [`ℹ️ <b>${escapeHtml(conversationLabel(s.id, s.name))}</b> · ${s.status}`, ...contactLines(s)]
  lines.push(`🕒 started ${s.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`)
  if (s.assignedToName) lines.push(`🙋 assigned to ${escapeHtml(s.assignedToName)}`)
  if (s.labels?.length) lines.push(`🏷 ${s.labels.map(escapeHtml).join(', ')}`)
  lines.push('', openLink(publicUrl, s.id))
  return lines.join('\n')
}
