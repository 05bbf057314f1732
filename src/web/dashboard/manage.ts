import { h } from '../shared/dom.js'
import { api, ApiError, type Site, type User } from './api.js'
import { dateTime } from './format.js'

type Rerender = () => void

function formError(): [HTMLParagraphElement, (err: unknown) => void] {
  const p = h('p', { class: 'error', role: 'alert' })
  return [p, (err) => (p.textContent = err instanceof ApiError ? err.message : 'Something went wrong')]
}

export async function usersView(me: User, rerender: Rerender): Promise<HTMLElement> {
  const { users } = await api<{ users: (User & { disabled: boolean })[] }>('/api/admin/users')
  const [error, showError] = formError()
  const patch = (id: string, body: Record<string, unknown>) => api(`/api/admin/users/${id}`, { method: 'PATCH', body }).then(rerender, showError)
  const rows = users.map((u) => h('tr', {},
    h('td', {}, h('strong', {}, u.name), h('div', { class: 'muted' }, u.email)),
    h('td', {}, u.id === me.id ? u.role : h('select', { 'aria-label': `Role of ${u.name}`, onchange: (e: Event) => patch(u.id, { role: (e.target as HTMLSelectElement).value }) },
      ...(['agent', 'admin'] as const).map((r) => h('option', { value: r, selected: u.role === r }, r)))),
    h('td', {}, u.disabled ? h('span', { class: 'pill closed' }, 'disabled') : h('span', { class: 'pill open' }, 'active')),
    h('td', { class: 'actions' }, u.id === me.id ? 'you' : h('button', { type: 'button', class: 'ghost', onclick: () => patch(u.id, { disabled: !u.disabled }) }, u.disabled ? 'Enable' : 'Disable'))))

  const f = {
    name: h('input', { required: true, maxlength: 100, 'aria-label': 'Name', placeholder: 'Name' }),
    email: h('input', { type: 'email', required: true, 'aria-label': 'Email', placeholder: 'Email' }),
    password: h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password', 'aria-label': 'Password', placeholder: 'Password (8+ characters)' }),
    role: h('select', { 'aria-label': 'Role' }, h('option', { value: 'agent' }, 'agent'), h('option', { value: 'admin' }, 'admin')),
  }
  const create = h('form', {
    class: 'card inline-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      void api('/api/admin/users', { method: 'POST', body: { name: f.name.value, email: f.email.value, password: f.password.value, role: f.role.value } }).then(rerender, showError)
    },
  }, h('h2', {}, 'Add a teammate'), f.name, f.email, f.password, f.role, h('button', { type: 'submit', class: 'primary' }, 'Add user'), error)

  return h('section', { class: 'page' }, h('h1', {}, 'Users'),
    h('div', { class: 'card' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'User'), h('th', {}, 'Role'), h('th', {}, 'Status'), h('th', {}, ''))), h('tbody', {}, rows))),
    create)
}

const splitOrigins = (text: string) => text.split(/[\s,]+/).filter(Boolean)

export const embedSnippet = (site: Pick<Site, 'apiKey'>) => `<script src="${location.origin}/widget.js" data-api-key="${site.apiKey}" async></script>`

function copyButton(text: string): HTMLButtonElement {
  const b: HTMLButtonElement = h('button', {
    type: 'button', class: 'ghost',
    onclick: () => void navigator.clipboard.writeText(text).then(() => {
      b.textContent = 'Copied'
      setTimeout(() => (b.textContent = 'Copy'), 1500)
    }, () => (b.textContent = 'Select and copy')),
  }, 'Copy')
  return b
}

function secretNotice(secret: string): HTMLElement {
  return h('div', { class: 'notice', role: 'status' },
    h('strong', {}, 'API secret (shown once, for server-to-server calls): '), h('code', {}, secret), copyButton(secret))
}

export async function sitesView(rerender: (notice?: HTMLElement) => void, notice?: HTMLElement): Promise<HTMLElement> {
  const { sites } = await api<{ sites: Site[] }>('/api/admin/sites')
  const [error, showError] = formError()
  const cards = sites.map((s) => h('article', { class: 'card site' },
    h('div', { class: 'site-head' }, h('h2', {}, s.name), h('span', { class: 'muted' }, `since ${dateTime(s.createdAt)}`)),
    h('dl', {}, h('dt', {}, 'API key'), h('dd', {}, h('code', {}, s.apiKey)), h('dt', {}, 'Allowed origins'), h('dd', {}, originsForm(s))),
    h('div', { class: 'snippet' }, h('pre', {}, embedSnippet(s)), copyButton(embedSnippet(s))),
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'ghost danger',
      onclick: () => {
        if (!confirm(`New key and secret for ${s.name}? The old ones stop working at once.`)) return
        void api<{ apiSecret: string }>(`/api/admin/sites/${s.id}/rotate`, { method: 'POST' }).then((r) => rerender(secretNotice(r.apiSecret)), showError)
      },
    }, 'Rotate key and secret'))))

  function originsForm(site: Site): HTMLFormElement {
    const input = h('input', { value: site.origins.join(', '), 'aria-label': `Allowed origins of ${site.name}`, placeholder: 'https://shop.example (or * for any)' })
    return h('form', {
      class: 'origins',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void api(`/api/admin/sites/${site.id}`, { method: 'PATCH', body: { origins: splitOrigins(input.value) } }).then(() => rerender(), showError)
      },
    }, input, h('button', { type: 'submit', class: 'ghost' }, 'Save'))
  }

  const name = h('input', { required: true, maxlength: 100, 'aria-label': 'Site name', placeholder: 'Site name' })
  const origins = h('input', { 'aria-label': 'Allowed origins', placeholder: 'https://shop.example, https://www.shop.example' })
  const create = h('form', {
    class: 'card inline-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      void api<{ apiSecret: string }>('/api/admin/sites', { method: 'POST', body: { name: name.value, origins: splitOrigins(origins.value) } }).then((r) => rerender(secretNotice(r.apiSecret)), showError)
    },
  }, h('h2', {}, 'Add a site'), name, origins, h('button', { type: 'submit', class: 'primary' }, 'Create site'), error)
  return h('section', { class: 'page' }, h('h1', {}, 'Sites'), notice ?? null, ...cards, create)
}
