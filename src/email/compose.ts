import type { Message } from '../chat/messages.js'
import { messageText, senderLabel, transcriptText, utcMinute } from '../chat/transcript.js'
import { visitorLocale, visitorText, type VisitorLocale } from '../chat/visitor-texts.js'

/**
 * Emails to visitors: a plain-text part and an HTML part saying the same. No images, no
 * remote resources, no tracking of any kind; every piece of text is escaped.
 */

export type Composed = { subject: string; text: string; html: string }

type Context = {
  siteName: string
  locale: string | null
  /** where "Stop emails about this conversation" goes (also the List-Unsubscribe header) */
  unsubscribeUrl: string
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(lang: VisitorLocale, body: string, footer: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f5f5f7;font:15px/1.5 -apple-system,Segoe UI,Roboto,Arial,sans-serif;color:#1d1d1f">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:12px;padding:24px">${body}</div>
<p style="max-width:560px;margin:16px auto 0;font-size:12px;color:#555">${footer}</p></body></html>`
}

function messagesHtml(messages: Message[], locale: VisitorLocale): string {
  return messages.map((m) => `<div style="margin:12px 0">
<div style="font-size:12px;color:#555">${escapeHtml(senderLabel(m, locale))} · ${escapeHtml(utcMinute(m.createdAt))}</div>
<div style="white-space:pre-wrap;background:${m.sender === 'visitor' ? '#e8f0fe' : '#f1f1f3'};border-radius:10px;padding:8px 12px;margin-top:4px">${escapeHtml(messageText(m, locale))}</div></div>`).join('\n')
}

function footer(locale: VisitorLocale, c: Context): { text: string; html: string } {
  const why = visitorText(locale, 'why', { site: c.siteName })
  const stop = visitorText(locale, 'unsubscribe')
  return {
    text: `--\n${why}\n${stop}: ${c.unsubscribeUrl}\n`,
    html: `${escapeHtml(why)}<br><a href="${escapeHtml(c.unsubscribeUrl)}" style="color:#555">${escapeHtml(stop)}</a>`,
  }
}

/** Agent replies the visitor missed, with the link that reopens the conversation (when there is a page to open). */
export function offlineRepliesEmail(c: Context, replies: Message[], link: { url: string; ttlDays: number } | undefined): Composed {
  const locale = visitorLocale(c.locale)
  const intro = visitorText(locale, 'offlineIntro', { site: c.siteName })
  const cont = visitorText(locale, 'continue')
  const note = link && visitorText(locale, 'linkNote', { days: link.ttlDays })
  const f = footer(locale, c)
  const textReplies = replies.map((m) => `${senderLabel(m, locale)} (${utcMinute(m.createdAt)}):\n${messageText(m, locale)}`).join('\n\n')
  const text = [intro, '', textReplies, '', ...(link ? [`${cont}: ${link.url}`, note ?? '', ''] : []), f.text].join('\n')
  const button = link
    ? `<p style="margin:24px 0 8px"><a href="${escapeHtml(link.url)}" style="display:inline-block;background:#0b57d0;color:#fff;text-decoration:none;padding:10px 18px;border-radius:8px">${escapeHtml(cont)}</a></p><p style="font-size:12px;color:#555;margin:0">${escapeHtml(note ?? '')}</p>`
    : ''
  const html = page(locale, `<p>${escapeHtml(intro)}</p>${messagesHtml(replies, locale)}${button}`, f.html)
  return { subject: visitorText(locale, 'offlineSubject', { site: c.siteName }), text, html }
}

/** The whole visible conversation, as the visitor asked for it. */
export function transcriptEmail(c: Context, session: { createdAt: Date }, messages: Message[]): Composed {
  const locale = visitorLocale(c.locale)
  const intro = visitorText(locale, 'transcriptIntro')
  const f = footer(locale, c)
  const text = [intro, '', transcriptText({ name: c.siteName }, { createdAt: session.createdAt, locale: c.locale }, messages), f.text].join('\n')
  const title = visitorText(locale, 'transcriptTitle', { site: c.siteName })
  const html = page(locale, `<h1 style="font-size:18px;margin:0 0 8px">${escapeHtml(title)}</h1><p>${escapeHtml(intro)}</p>${messagesHtml(messages, locale)}`, f.html)
  return { subject: visitorText(locale, 'transcriptSubject', { site: c.siteName }), text, html }
}
