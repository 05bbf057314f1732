import { h } from '../shared/dom.js'
import type { Session } from './api.js'
import { ago, displayName, number } from './format.js'
import { plural, t, tIsolated } from './i18n.js'
import { labelChips } from './labels.js'

/** One chat in the inbox list: who, when, the last message (and whether the visitor has seen ours), unread count, labels, owner. */
export function sessionRow(s: Session, selected: boolean): HTMLElement {
  const last = s.lastMessage
  const preview = !last ? t('inbox.noMessages')
    : last.sender === 'visitor' ? last.text
    : tIsolated(last.sender === 'agent' && s.visitorReadSeq >= last.seq ? 'inbox.youSeen' : 'inbox.you', { text: last.text })
  return h('li', {}, h('a', {
    href: `#/inbox/${s.id}`,
    class: `row${selected ? ' selected' : ''}${s.unreadCount ? ' unread' : ''}`,
    'aria-current': selected ? 'true' : undefined,
  },
  h('span', { class: 'avatar', 'aria-hidden': 'true' }, displayName(s).slice(0, 1).toUpperCase()),
  h('span', { class: 'row-main' },
    h('span', { class: 'row-top' }, h('span', { class: 'who' }, displayName(s)), h('time', {}, ago(s.lastMessageAt ?? s.createdAt))),
    h('span', { class: 'row-bottom' },
      h('span', { class: 'preview' }, preview),
      s.status === 'closed' ? h('span', { class: 'pill closed' }, t('status.closed')) : null,
      s.unreadCount ? h('span', { class: 'count', 'aria-label': plural('inbox.unread', s.unreadCount) }, number(s.unreadCount)) : null),
    s.labels.length || s.assignedTo ? h('span', { class: 'row-tags' }, labelChips(s.labels),
      s.assignedTo ? h('span', { class: 'muted' }, tIsolated('inbox.assignedTo', { name: s.assignedTo.name })) : null) : null)))
}
