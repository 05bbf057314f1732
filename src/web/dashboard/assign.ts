import { h } from '../shared/dom.js'
import { api, ApiError, type Session, type User } from './api.js'
import { isolated, t, tIsolated } from './i18n.js'

type Update = (s: Session) => void

let teamOf: Promise<User[]> | undefined
/** Everyone an admin may hand a chat to (read once per page load; enabled users only). */
const team = () => (teamOf ??= api<{ users: User[] }>('/api/admin/users').then((r) => r.users.filter((u) => !u.disabled), (err: unknown) => {
  teamOf = undefined
  throw err
}))

const worksOn = (u: User, siteId: string) => u.siteIds === null || u.siteIds.includes(siteId)

function post(s: Session, userId: string | null, update: Update, error: HTMLElement): void {
  error.textContent = ''
  void api<{ session: Session }>(`/api/chat/sessions/${s.id}/assign`, { method: 'POST', body: { userId } })
    .then((r) => update(r.session), (err: unknown) => (error.textContent = err instanceof ApiError ? err.message : t('error.generic')))
}

/**
 * Who has the chat, and the buttons to change it: "Assign to me", "Unassign" (an agent only
 * their own; an admin anyone's) and, for admins, an "Assigned to" select of the site's team.
 */
export function assignControls(s: Session, me: User, update: Update): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' })
  const mine = s.assignedTo?.id === me.id
  const mayUnassign = s.assignedTo !== null && (mine || me.role === 'admin')
  const who = s.assignedTo && (mine ? h('span', {}, tIsolated('conv.you', { name: s.assignedTo.name })) : s.assignedTo.name)
  const box = h('div', { class: 'assign' },
    h('span', { class: `assignee${s.assignedTo ? '' : ' none'}` }, who ? tIsolated('inbox.assignedTo', { name: who }) : t('conv.notAssigned')),
    mine ? null : h('button', { type: 'button', class: 'ghost', 'data-focus': 'assign', onclick: () => post(s, me.id, update, error) }, t('conv.assignToMe')),
    mayUnassign ? h('button', { type: 'button', class: 'ghost', 'data-focus': 'assign', onclick: () => post(s, null, update, error) }, t('conv.unassign')) : null,
    error)
  if (me.role === 'admin') {
    const select: HTMLSelectElement = h('select', { 'aria-label': t('conv.assignee'), 'data-focus': 'assignee', onchange: () => post(s, select.value || null, update, error) },
      h('option', { value: '' }, t('conv.nobody')))
    box.insertBefore(select, error)
    void team().then((users) => {
      const options = users.filter((u) => worksOn(u, s.siteId) || u.id === s.assignedTo?.id)
      select.append(...options.map((u) => h('option', { value: u.id, selected: u.id === s.assignedTo?.id }, u.id === me.id ? t('conv.you', { name: isolated(u.name) }) : u.name)))
    }, () => {})
  }
  return box
}
