import { ORIGIN_PATTERN } from '../../chat/origin-pattern.js'
import { h } from '../shared/dom.js'
import { api, ApiError, type Site, type User } from './api.js'
import { dateTime } from './format.js'
import { isolated, plural, t } from './i18n.js'

type Rerender = () => void
type Role = User['role']

const roleName = (role: Role) => t(role === 'admin' ? 'role.admin' : 'role.agent')
const roleOptions = (selected: Role) => (['agent', 'admin'] as const).map((r) => h('option', { value: r, selected: r === selected }, roleName(r)))

function formError(): [HTMLParagraphElement, (err: unknown) => void] {
  const p = h('p', { class: 'error', role: 'alert' })
  return [p, (err) => (p.textContent = err instanceof ApiError ? err.message : t('error.generic'))]
}

/** Where a user works: "All sites", or a checkbox per site (an empty choice is no site). */
function sitePicker(sites: Site[], selected: string[] | null, legend: string): { el: HTMLFieldSetElement; value: () => string[] | null } {
  const all = h('input', { type: 'checkbox', checked: selected === null })
  const boxes = sites.map((s) => ({ id: s.id, box: h('input', { type: 'checkbox', value: s.id, checked: selected?.includes(s.id) ?? false, disabled: selected === null }), name: s.name }))
  all.addEventListener('change', () => {
    for (const b of boxes) b.box.disabled = all.checked
  })
  const el = h('fieldset', { class: 'site-picker' }, h('legend', {}, legend),
    h('label', { class: 'check' }, all, t('users.allSites')),
    boxes.map((b) => h('label', { class: 'check' }, b.box, b.name)))
  return { el, value: () => (all.checked ? null : boxes.filter((b) => b.box.checked).map((b) => b.id)) }
}

const sitesSummary = (siteIds: string[] | null) =>
  siteIds === null ? t('users.allSites') : siteIds.length === 0 ? t('users.noSite') : plural('users.siteCount', siteIds.length)

const presence = (u: User) => {
  const state = u.disabled ? 'offline' : u.online ? 'online' : u.availability === 'away' ? 'away' : 'offline'
  return h('span', { class: `presence ${state}` }, t(`presence.${state}`))
}

export async function usersView(me: User, rerender: Rerender): Promise<HTMLElement> {
  const [{ users }, { sites }] = await Promise.all([api<{ users: User[] }>('/api/admin/users'), api<{ sites: Site[] }>('/api/admin/sites')])
  const [error, showError] = formError()
  const patch = (id: string, body: Record<string, unknown>) => api(`/api/admin/users/${id}`, { method: 'PATCH', body }).then(rerender, showError)
  const membership = (u: User) => {
    const picker = sitePicker(sites, u.siteIds, t('users.sitesOf', { name: u.name }))
    return h('details', { class: 'membership' }, h('summary', {}, sitesSummary(u.siteIds)),
      h('form', { onsubmit: (e: Event) => { e.preventDefault(); void patch(u.id, { siteIds: picker.value() }) } },
        picker.el, h('button', { type: 'submit', class: 'ghost' }, t('users.saveSites'))))
  }
  const rows = users.map((u) => h('tr', {},
    h('td', {}, h('strong', {}, u.name), ' ', presence(u), h('div', { class: 'muted' }, u.email)),
    h('td', {}, u.id === me.id ? roleName(u.role) : h('select', { 'aria-label': t('users.roleOf', { name: u.name }), onchange: (e: Event) => patch(u.id, { role: (e.target as HTMLSelectElement).value }) },
      roleOptions(u.role))),
    h('td', {}, membership(u)),
    h('td', {}, u.disabled ? h('span', { class: 'pill closed' }, t('users.disabled')) : h('span', { class: 'pill open' }, t('users.active'))),
    h('td', { class: 'actions' }, u.id === me.id ? t('users.you') : h('button', { type: 'button', class: 'ghost', onclick: () => patch(u.id, { disabled: !u.disabled }) }, u.disabled ? t('users.enable') : t('users.disable')))))

  const f = {
    name: h('input', { required: true, maxlength: 100, 'aria-label': t('field.name'), placeholder: t('field.name') }),
    email: h('input', { type: 'email', required: true, 'aria-label': t('field.email'), placeholder: t('field.email') }),
    password: h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password', 'aria-label': t('field.password'), placeholder: t('users.passwordHint') }),
    role: h('select', { 'aria-label': t('users.role') }, roleOptions('agent')),
    sites: sitePicker(sites, null, t('users.sites')),
  }
  const create = h('form', {
    class: 'card inline-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      void api('/api/admin/users', { method: 'POST', body: { name: f.name.value, email: f.email.value, password: f.password.value, role: f.role.value, siteIds: f.sites.value() } }).then(rerender, showError)
    },
  }, h('h2', {}, t('users.add')), f.name, f.email, f.password, f.role, f.sites.el, h('button', { type: 'submit', class: 'primary' }, t('users.submit')), error)

  return h('section', { class: 'page' }, h('h1', {}, t('nav.users')),
    h('div', { class: 'card' }, h('table', {}, h('thead', {}, h('tr', {},
      h('th', {}, t('users.user')), h('th', {}, t('users.role')), h('th', {}, t('users.sites')), h('th', {}, t('field.status')), h('th', {}, h('span', { class: 'visually-hidden' }, t('users.actions'))))), h('tbody', {}, rows)),
    h('p', { class: 'muted' }, t('users.sitesHint'))),
    create)
}

const splitOrigins = (text: string) => text.split(/[\s,]+/).filter(Boolean)
/** the server's rule for an origin, checked here so a person reads what to write, not the schema's pattern */
const ORIGIN_RE = new RegExp(ORIGIN_PATTERN)
/** The origins in `text`, or undefined after saying which one is not an origin. */
function checkedOrigins(text: string, say: (message: string) => void): string[] | undefined {
  const origins = splitOrigins(text)
  const wrong = origins.find((o) => !ORIGIN_RE.test(o))
  if (wrong === undefined) return origins
  say(t('sites.notAnOrigin', { origin: wrong }))
}

export const embedSnippet = (site: Pick<Site, 'apiKey'>) => `<script src="${location.origin}/widget.js" data-api-key="${site.apiKey}" async></script>`

function copyButton(text: string): HTMLButtonElement {
  const b: HTMLButtonElement = h('button', {
    type: 'button', class: 'ghost',
    onclick: () => void navigator.clipboard.writeText(text).then(() => {
      b.textContent = t('sites.copied')
      setTimeout(() => (b.textContent = t('sites.copy')), 1500)
    }, () => (b.textContent = t('sites.copyFailed'))),
  }, t('sites.copy'))
  return b
}

function secretNotice(secret: string): HTMLElement {
  return h('div', { class: 'notice', role: 'status' },
    h('strong', {}, t('sites.secret')), h('code', {}, secret), copyButton(secret))
}

export async function sitesView(rerender: (notice?: HTMLElement) => void, notice?: HTMLElement): Promise<HTMLElement> {
  const { sites } = await api<{ sites: Site[] }>('/api/admin/sites')
  const [error, showError] = formError()
  const cards = sites.map((s) => h('article', { class: 'card site' },
    h('div', { class: 'site-head' }, h('h2', {}, s.name), h('span', { class: 'muted' }, t('sites.since', { date: dateTime(s.createdAt) }))),
    h('dl', {}, h('dt', {}, t('sites.apiKey')), h('dd', {}, h('code', {}, s.apiKey)), h('dt', {}, t('sites.origins')), h('dd', {}, originsForm(s))),
    h('div', { class: 'snippet' }, h('pre', {}, embedSnippet(s)), copyButton(embedSnippet(s))),
    s.legacyBrowserSecret ? legacyWarning(s) : null,
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'ghost danger',
      onclick: () => {
        if (!confirm(t('sites.rotateConfirm', { name: isolated(s.name) }))) return
        void api<{ apiSecret: string }>(`/api/admin/sites/${s.id}/rotate`, { method: 'POST' }).then((r) => rerender(secretNotice(r.apiSecret)), showError)
      },
    }, t('sites.rotate')))))

  /** What a site that takes its secret from browsers exposes, and the way off it. */
  function legacyWarning(site: Site): HTMLElement {
    return h('div', { class: 'warning', role: 'note' },
      h('p', {}, t('sites.legacyWarning')),
      h('button', {
        type: 'button', class: 'ghost danger',
        onclick: () => void api(`/api/admin/sites/${site.id}`, { method: 'PATCH', body: { legacyBrowserSecret: false } }).then(() => rerender(), showError),
      }, t('sites.legacyOff')))
  }

  function originsForm(site: Site): HTMLFormElement {
    const input = h('input', { value: site.origins.join(', '), 'aria-label': t('sites.originsOf', { name: site.name }), placeholder: t('sites.originsHint') })
    return h('form', {
      class: 'origins',
      onsubmit: (e: Event) => {
        e.preventDefault()
        const origins = checkedOrigins(input.value, (message) => (error.textContent = message))
        if (origins) void api(`/api/admin/sites/${site.id}`, { method: 'PATCH', body: { origins } }).then(() => rerender(), showError)
      },
    }, input, h('button', { type: 'submit', class: 'ghost' }, t('sites.save')))
  }

  const name = h('input', { required: true, maxlength: 100, 'aria-label': t('sites.name'), placeholder: t('sites.name') })
  const origins = h('input', { 'aria-label': t('sites.origins'), placeholder: 'https://shop.example, https://www.shop.example' })
  const create = h('form', {
    class: 'card inline-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      const checked = checkedOrigins(origins.value, (message) => (error.textContent = message))
      if (checked) void api<{ apiSecret: string }>('/api/admin/sites', { method: 'POST', body: { name: name.value, origins: checked } }).then((r) => rerender(secretNotice(r.apiSecret)), showError)
    },
  }, h('h2', {}, t('sites.add')), name, origins, h('button', { type: 'submit', class: 'primary' }, t('sites.submit')), error)
  return h('section', { class: 'page' }, h('h1', {}, t('nav.sites')), notice ?? null, ...cards, create)
}
