import { h } from '../shared/dom.js'
import { api, type Availability, type User } from './api.js'
import { t } from './i18n.js'

/**
 * The "Availability" select (Online / Away) in the navigation: while Online and a dashboard
 * is open, new chats may be assigned to this user and the widget says someone is there.
 * `sync` follows changes made in another tab (the socket's `user.updated`).
 */
export function availabilitySelect(me: User): { el: HTMLSelectElement; sync: (user: User) => void } {
  const el: HTMLSelectElement = h('select', {
    class: 'availability',
    'aria-label': t('availability.label'),
    onchange: () => {
      const wanted = el.value as Availability
      el.disabled = true
      void api<{ user: User }>('/api/auth/me', { method: 'PATCH', body: { availability: wanted } })
        .then((r) => sync(r.user), () => sync(me))
        .finally(() => (el.disabled = false))
    },
  }, (['online', 'away'] as const).map((a) => h('option', { value: a, selected: me.availability === a }, t(`availability.${a}`))))
  const sync = (user: User) => {
    me.availability = user.availability
    el.value = user.availability
    el.dataset.state = user.availability
  }
  sync(me)
  return { el, sync }
}
