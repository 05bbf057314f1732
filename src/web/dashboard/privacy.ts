import { h } from '../shared/dom.js'
import { api, ApiError, auth, type Rating, type Session, type Site } from './api.js'
import { dateTime } from './format.js'
import { t } from './i18n.js'

type AuditEntry = { id: number; at: string; actor: { id: string; name: string } | null; action: string; target: string | null; details: Record<string, unknown> }

const AUDIT_PAGE = 50

const stars = (score: number) => `${'★'.repeat(score)}${'☆'.repeat(5 - score)}`

/** The visitor's rating as the details list shows it: stars (read out as "4 of 5") and the comment. */
export function ratingDetail(rating: Rating | null | undefined): HTMLElement | null {
  if (!rating) return null
  return h('span', { class: 'rating' },
    h('span', { class: 'stars', role: 'img', 'aria-label': t('rating.outOf5', { score: rating.score }) }, stars(rating.score)),
    rating.comment ? h('q', {}, rating.comment) : null)
}

/** Fetches with the admin token and hands the body to the browser as a file. */
async function download(path: string, fallbackName: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${auth.token ?? ''}` } })
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } }
    throw new ApiError(res.status, body.error?.code ?? 'INTERNAL', body.error?.message ?? t('error.request', { status: res.status }))
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName
  const url = URL.createObjectURL(await res.blob())
  const a = h('a', { href: url, download: name, hidden: true })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** An admin's buttons in a conversation: download it as JSON, erase it (after a confirmation). */
export function sessionActions(s: Session, onError: (message: string) => void): HTMLElement {
  const fail = (err: unknown) => onError(err instanceof Error ? err.message : t('error.generic'))
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ghost', onclick: () => void download(`/api/chat/sessions/${s.id}/export`, `chat-${s.id}.json`).catch(fail) }, t('privacy.exportSession')),
    h('button', {
      type: 'button', class: 'ghost danger',
      onclick: () => {
        if (!confirm(t('privacy.eraseSessionConfirm'))) return
        // the dashboards (this one too) drop it on the session.erased event
        void api(`/api/chat/sessions/${s.id}`, { method: 'DELETE' }).catch(fail)
      },
    }, t('privacy.eraseSession')))
}

/** Privacy, per site: keep closed chats N days, erase a visitor, download every chat. */
export async function privacyView(): Promise<HTMLElement> {
  const { sites } = await api<{ sites: (Site & { retentionDays: number | null })[] }>('/api/admin/sites')
  const status = h('p', { role: 'status', class: 'muted' })
  const error = h('p', { role: 'alert', class: 'error' })
  const say = (ok: string) => { error.textContent = ''; status.textContent = ok }
  const fail = (err: unknown) => { status.textContent = ''; error.textContent = err instanceof Error ? err.message : t('error.generic') }
  const cards = sites.map((site) => {
    const id = site.id.slice(0, 8)
    const days = h('input', { type: 'number', min: 1, max: 3650, id: `retention-${id}`, value: site.retentionDays ?? '' })
    const visitor = h('input', { id: `visitor-${id}`, maxlength: 200 })
    const email = h('input', { id: `email-${id}`, type: 'email', maxlength: 320 })
    return h('article', { class: 'card', 'aria-labelledby': `privacy-${id}` }, h('h2', { id: `privacy-${id}` }, site.name),
      h('form', {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault()
          const retentionDays = days.value ? Number(days.value) : null
          void api(`/api/admin/sites/${site.id}`, { method: 'PATCH', body: { retentionDays } }).then(() => say(t('privacy.saved')), fail)
        },
      }, h('label', { for: `retention-${id}` }, t('privacy.retention')), days, h('button', { type: 'submit', class: 'ghost' }, t('privacy.saveRetention'))),
      h('p', { class: 'muted' }, t('privacy.retentionHint')),
      h('form', {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault()
          const body = { siteId: site.id, ...(visitor.value.trim() ? { userSessionId: visitor.value.trim() } : {}), ...(email.value.trim() ? { email: email.value.trim() } : {}) }
          if (!confirm(t('privacy.eraseVisitorConfirm'))) return
          void api<{ erasedSessions: number }>('/api/admin/erasures', { method: 'POST', body }).then((r) => say(t('privacy.erased', { n: r.erasedSessions })), fail)
        },
      }, h('label', { for: `visitor-${id}` }, t('privacy.visitorId')), visitor, h('label', { for: `email-${id}` }, t('field.email')), email,
      h('button', { type: 'submit', class: 'ghost danger' }, t('privacy.eraseVisitor'))),
      h('button', { type: 'button', class: 'ghost', onclick: () => void download(`/api/admin/export?siteId=${site.id}`, 'chat-export.ndjson').then(() => say(t('privacy.exported')), fail) }, t('privacy.exportSite')))
  })
  return h('section', { class: 'page' }, h('h1', {}, t('nav.privacy')), status, error, ...cards)
}

/** The audit log, newest first, a page at a time. */
export async function auditView(): Promise<HTMLElement> {
  const rows = h('tbody', {})
  const more = h('button', { type: 'button', class: 'ghost' }, t('audit.older'))
  let last: number | undefined
  const load = async () => {
    const q = new URLSearchParams({ limit: String(AUDIT_PAGE) })
    if (last !== undefined) q.set('before', String(last))
    const { entries } = await api<{ entries: AuditEntry[] }>(`/api/admin/audit?${q}`)
    rows.append(...entries.map((e) => h('tr', {},
      h('td', {}, dateTime(e.at)), h('td', {}, e.actor?.name ?? t('audit.system')), h('td', {}, h('code', {}, e.action)),
      h('td', {}, e.target ?? ''), h('td', {}, Object.keys(e.details).length ? JSON.stringify(e.details) : ''))))
    last = entries[entries.length - 1]?.id ?? last
    more.hidden = entries.length < AUDIT_PAGE
  }
  more.addEventListener('click', () => void load())
  await load()
  return h('section', { class: 'page' }, h('h1', {}, t('nav.audit')),
    h('div', { class: 'card table-wrap' }, h('table', { class: 'audit' },
      h('caption', { class: 'visually-hidden' }, t('nav.audit')),
      h('thead', {}, h('tr', {}, ...[t('audit.when'), t('audit.who'), t('audit.action'), t('audit.target'), t('audit.details')].map((c) => h('th', { scope: 'col' }, c)))),
      rows)), more)
}
