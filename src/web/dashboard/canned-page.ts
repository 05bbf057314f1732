import { h } from '../shared/dom.js'
import { api, ApiError, type Canned, type Site } from './api.js'
import { forgetCanned } from './canned.js'
import { t } from './i18n.js'

const SHORTCUT_PATTERN = '[a-z0-9_\\-]{1,32}'

function siteSelect(sites: Site[], selected: string | null, label: string): HTMLSelectElement {
  return h('select', { 'aria-label': label },
    h('option', { value: '', selected: selected === null }, t('canned.shared')),
    sites.map((s) => h('option', { value: s.id, selected: s.id === selected }, s.name)))
}

/** The admins' "Canned responses" page: every response with its shortcut, text and site, editable in place. */
export async function cannedView(rerender: () => void): Promise<HTMLElement> {
  const [{ canned }, { sites }] = await Promise.all([api<{ canned: Canned[] }>('/api/chat/canned'), api<{ sites: Site[] }>('/api/admin/sites')])
  const error = h('p', { class: 'error', role: 'alert' })
  const fail = (err: unknown) => (error.textContent = err instanceof ApiError ? err.message : t('error.generic'))
  const done = () => {
    forgetCanned()
    rerender()
  }

  const rows = canned.map((c) => {
    const shortcut = h('input', { value: c.shortcut, required: true, pattern: SHORTCUT_PATTERN, maxlength: 32, 'aria-label': t('canned.shortcutOf', { shortcut: c.shortcut }) })
    const text = h('textarea', { rows: 2, maxlength: 4000, required: true, 'aria-label': t('canned.textOf', { shortcut: c.shortcut }) }, c.text)
    const site = siteSelect(sites, c.siteId, t('canned.siteOf', { shortcut: c.shortcut }))
    return h('form', {
      class: 'card canned-row',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void api(`/api/chat/canned/${c.id}`, { method: 'PATCH', body: { shortcut: shortcut.value, text: text.value, siteId: site.value || null } }).then(done, fail)
      },
    }, h('span', { class: 'slash', 'aria-hidden': 'true' }, '/'), shortcut, site, text,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'ghost' }, t('canned.save', { shortcut: c.shortcut })),
      h('button', {
        type: 'button', class: 'ghost danger',
        onclick: () => {
          if (confirm(t('canned.deleteConfirm', { shortcut: c.shortcut }))) void api(`/api/chat/canned/${c.id}`, { method: 'DELETE' }).then(done, fail)
        },
      }, t('canned.delete', { shortcut: c.shortcut }))))
  })

  const f = {
    shortcut: h('input', { required: true, pattern: SHORTCUT_PATTERN, maxlength: 32, 'aria-label': t('canned.shortcut'), placeholder: t('canned.shortcutHint') }),
    text: h('textarea', { rows: 3, required: true, maxlength: 4000, 'aria-label': t('canned.text'), placeholder: 'Hi {{visitor.name}}, this is {{agent.name}}…' }),
    site: siteSelect(sites, null, t('canned.site')),
  }
  const create = h('form', {
    class: 'card inline-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      void api('/api/chat/canned', { method: 'POST', body: { shortcut: f.shortcut.value, text: f.text.value, siteId: f.site.value || null } }).then(done, fail)
    },
  }, h('h2', {}, t('canned.add')), f.shortcut, f.site, f.text, h('button', { type: 'submit', class: 'primary' }, t('canned.submit')))

  return h('section', { class: 'page' }, h('h1', {}, t('nav.canned')), h('p', { class: 'muted' }, t('canned.intro')), error,
    rows.length ? rows : h('p', { class: 'card muted' }, t('canned.empty')), create)
}
