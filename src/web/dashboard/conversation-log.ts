import { h, linkified } from '../shared/dom.js'
import type { Message, Note, Session } from './api.js'
import { attachmentsEl } from './attach.js'
import { time } from './format.js'
import { t } from './i18n.js'
import { noteEl, timeline } from './notes.js'

export type Conversation = { session: Session; messages: Message[]; notes: Note[] }

function messageEl(m: Message, seen: boolean): HTMLElement {
  return h('div', { class: `msg ${m.sender === 'visitor' ? 'in' : 'out'} ${m.sender}`, 'data-seq': m.seq },
    h('div', { class: 'bubble' }, m.text ? h('p', {}, linkified(m.text)) : null, attachmentsEl(m.attachments ?? [])),
    h('div', { class: 'meta' }, m.sender === 'visitor' ? null : [m.senderName ? h('bdi', {}, m.senderName) : t(`sender.${m.sender}`), ' · '], time(m.createdAt), seen ? ` · ${t('conv.seen')}` : null))
}

/** Messages and private notes in the order they were written, "Seen" under the last agent message the visitor has read. */
export function logItems({ session, messages, notes }: Conversation): HTMLElement[] {
  const seen = messages.filter((m) => m.sender === 'agent' && m.seq <= session.visitorReadSeq).at(-1)
  return timeline(messages, notes).map((e) => (e.kind === 'message' ? messageEl(e.message, e.message === seen) : noteEl(e.note)))
}
