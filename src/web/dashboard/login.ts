import { h } from '../shared/dom.js'
import { api, ApiError, auth, type User } from './api.js'
import { languageSelect, t } from './i18n.js'

export function loginView(done: (user: User) => void): HTMLElement {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, id: 'login-email' })
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, id: 'login-password' })
  const error = h('p', { class: 'error', role: 'alert' })
  const button = h('button', { type: 'submit', class: 'primary wide' }, t('login.submit'))
  return h('main', { class: 'login' },
    h('form', {
      class: 'card login-card',
      onsubmit: async (e: Event) => {
        e.preventDefault()
        button.disabled = true
        error.textContent = ''
        try {
          const r = await api<{ token: string; user: User }>('/api/auth/login', { method: 'POST', body: { email: email.value, password: password.value } })
          auth.token = r.token
          done(r.user)
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : t('login.failed')
        } finally {
          button.disabled = false
        }
      },
    },
    h('div', { class: 'login-top' }, h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('app.name')), languageSelect()),
    h('h1', {}, t('login.heading')),
    h('label', { for: 'login-email' }, t('field.email')), email,
    h('label', { for: 'login-password' }, t('field.password')), password,
    error, button,
    h('p', { class: 'hint' }, t('login.hint'))))
}
