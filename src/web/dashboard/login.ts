import { h } from '../shared/dom.js'
import { api, ApiError, auth, type User } from './api.js'

export function loginView(done: (user: User) => void): HTMLElement {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, id: 'login-email' })
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, id: 'login-password' })
  const error = h('p', { class: 'error', role: 'alert' })
  const button = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in')
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
          error.textContent = err instanceof ApiError ? err.message : 'Sign-in failed'
        } finally {
          button.disabled = false
        }
      },
    },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Live chat'),
    h('h1', {}, 'Sign in to your inbox'),
    h('label', { for: 'login-email' }, 'Email'), email,
    h('label', { for: 'login-password' }, 'Password'), password,
    error, button,
    h('p', { class: 'hint' }, 'First run? The admin email and password are printed in the server console.')))
}
