import { h, linkified } from '../shared/dom.js'
import { api, type Session, type User } from './api.js'
import { assignControls } from './assign.js'
import { type Conversation, logItems } from './conversation-log.js'
import { dateTime, displayName, languageName } from './format.js'
import { t } from './i18n.js'
import { labelsEditor } from './labels.js'
import { ratingDetail, sessionActions } from './privacy.js'
import { type Draft, replyForm, type Sent } from './reply.js'

/** What the visitor told us and what we know of the chat, beside the log. */
function details(s: Session): HTMLElement {
  const detail = (label: string, value: Node | string | null) => value ? [h('dt', {}, label), h('dd', {}, value)] : []
  return h('aside', { class: 'details', 'aria-label': t('conv.details') }, h('dl', {},
    ...detail(t('field.name'), s.name),
    ...detail(t('field.phone'), s.phone ? h('a', { href: `tel:${s.phone.replace(/[^0-9+]/g, '')}` }, s.phone) : null),
    ...detail(t('field.email'), s.email ? h('a', { href: `mailto:${s.email}` }, s.email) : null),
    ...detail(t('conv.page'), s.pageUrl ? linkified(s.pageUrl) : null),
    ...detail(t('language'), s.locale ? languageName(s.locale) : null),
    ...detail(t('conv.started'), dateTime(s.createdAt)),
    ...detail(t('conv.closedAt'), s.closedAt ? dateTime(s.closedAt) : null),
    ...detail(t('rating.label'), ratingDetail(s.rating))))
}

/**
 * One open conversation, built afresh: its header (who, status, assignment, close, the admin's
 * export and erase), the log with `typingEl` under it, the details and labels, and the reply form.
 * `update` takes the session as the server returns it after a change made here.
 */
export function conversationView(current: Conversation, me: User, draft: Draft, typingEl: HTMLElement, update: (s: Session) => void, sent: Sent) {
  const { session: s } = current
  // focusable: a long conversation scrolls, and a keyboard alone must be able to scroll it (a phone has no room for it all)
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t('conv.messagesWith', { name: displayName(s) }), tabindex: 0 }, logItems(current))
  const reply = replyForm(s, me, draft, sent)
  const nodes = [
    h('header', { class: 'conv-head' },
      h('a', { href: '#/inbox', class: 'back', 'aria-label': t('conv.back') }, '‹'),
      h('div', { class: 'who' }, h('h2', { tabindex: -1, 'data-focus': 'heading' }, displayName(s)), h('span', { class: `pill ${s.status}` }, t(`status.${s.status}`))),
      assignControls(s, me, update),
      s.status === 'open'
        ? h('button', { type: 'button', class: 'ghost', 'data-focus': 'close', onclick: () => void api<{ session: Session }>(`/api/chat/sessions/${s.id}/close`, { method: 'POST' }).then((r) => update(r.session)) }, t('conv.close'))
        : null,
      me.role === 'admin' ? sessionActions(s, (message) => (reply.error.textContent = message)) : null),
    h('div', { class: 'conv-body' },
      h('div', { class: 'log-pane' }, log, typingEl),
      details(s),
      h('section', { class: 'details-labels', 'aria-label': t('conv.labels') }, h('h3', {}, t('conv.labels')), labelsEditor(s, update))),
    reply.el,
  ]
  return { nodes, log, drop: reply.drop }
}
