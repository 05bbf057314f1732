/** The managers' dashboard: a small hash-routed app over the admin API and the dashboard socket. */
import { h } from '../shared/dom.js'
import { api, auth, logout, type User } from './api.js'
import { showUnreadChats, sound } from './attention.js'
import { availabilitySelect } from './availability.js'
import { cannedView } from './canned-page.js'
import { languageSelect, onLocaleChange, t } from './i18n.js'
import { createInbox } from './inbox.js'
import { startLive } from './live.js'
import { loginView } from './login.js'
import { sitesView, usersView } from './manage.js'
import { auditView, privacyView } from './privacy.js'
import { settingsView } from './settings.js'
import { statsView } from './stats.js'

const app = document.getElementById('app') ?? document.body

/** Draws the current screen again, in the new language; set by whichever screen is up. */
let redraw: () => void = () => {}
onLocaleChange(() => {
  redraw()
  // the language select was replaced with the screen: keep a keyboard user where they were
  app.querySelector<HTMLSelectElement>('select.language')?.focus()
})

function showLogin(): void {
  redraw = showLogin
  showUnreadChats(0)
  app.replaceChildren(loginView((user) => {
    location.hash = '#/inbox'
    showApp(user)
  }))
  app.querySelector('input')?.focus()
}

function showApp(me: User): void {
  const inbox = createInbox(me, (id) => (location.hash = id ? `#/inbox/${id}` : '#/inbox'))
  const availability = availabilitySelect(me)
  const banner = h('div', { class: 'banner', role: 'status', hidden: true }, t('nav.offline'))
  // the pages scroll inside <main>: focusable, so a keyboard alone can scroll a page without controls (Settings, Audit log on a phone)
  const main = h('main', { class: 'main', tabindex: 0 })
  const soundBox = h('input', { type: 'checkbox', checked: sound.on, onchange: () => (sound.on = soundBox.checked) })
  const links: [string, string][] = [['#/inbox', t('nav.inbox')], ['#/stats', t('nav.stats')]]
  if (me.role === 'admin') links.push(['#/canned', t('nav.canned')], ['#/users', t('nav.users')], ['#/sites', t('nav.sites')], ['#/privacy', t('nav.privacy')], ['#/audit', t('nav.audit')], ['#/settings', t('nav.settings')])
  const nav = h('nav', { class: 'nav', 'aria-label': t('nav.main') },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('span', {}, t('app.name'))),
    h('ul', {}, links.map(([href, label]) => h('li', {}, h('a', { href }, label)))),
    h('div', { class: 'me' },
      availability.el,
      languageSelect(),
      h('label', { class: 'check' }, soundBox, t('nav.sound')),
      h('span', { class: 'muted' }, `${me.name} · ${t(me.role === 'admin' ? 'role.admin' : 'role.agent')}`),
      h('button', { type: 'button', class: 'ghost', onclick: () => signOut(true) }, t('nav.signOut'))))
  app.replaceChildren(h('div', { class: 'shell' }, nav, h('div', { class: 'content' }, banner, main)))

  const leave = () => {
    stop()
    inbox.dispose()
    window.onhashchange = null
  }
  /** `revoke`: the user asked to sign out, so the token is revoked on the server too (an expired one needs nothing) */
  const signOut = (revoke = false) => {
    leave()
    if (revoke) void logout()
    auth.token = null
    showUnreadChats(0)
    showLogin()
  }
  // the whole app again in the new language: lists and pages are refetched, the route kept
  redraw = () => {
    leave()
    showApp(me)
  }
  const stop = startLive({
    event: (e) => (e.type === 'user.updated' ? availability.sync(e.user) : inbox.event(e)),
    state: (up) => (banner.hidden = up),
    refetch: () => inbox.refetch(),
    expired: () => signOut(),
  })
  auth.onExpired = () => signOut()

  // a slow page must not overwrite the one the user has moved on to
  let routeSeq = 0
  async function route(): Promise<void> {
    const mine = ++routeSeq
    const show = (el: HTMLElement) => void (mine === routeSeq && main.replaceChildren(el))
    const [, page = 'inbox', id] = location.hash.split('/')
    for (const a of nav.querySelectorAll('a')) {
      if (a.getAttribute('href') === `#/${page}`) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    }
    try {
      if (page === 'stats') show(await statsView())
      else if (page === 'users' && me.role === 'admin') show(await usersView(me, () => void route()))
      else if (page === 'canned' && me.role === 'admin') show(await cannedView(() => void route()))
      else if (page === 'settings' && me.role === 'admin') show(await settingsView())
      else if (page === 'privacy' && me.role === 'admin') show(await privacyView())
      else if (page === 'audit' && me.role === 'admin') show(await auditView())
      else if (page === 'sites' && me.role === 'admin') {
        const render = async (notice?: HTMLElement) => show(await sitesView((n) => void render(n), notice))
        await render()
      } else {
        if (!main.contains(inbox.el)) {
          show(inbox.el)
          await inbox.load()
        }
        if (mine === routeSeq) await inbox.open(id ?? null)
      }
    } catch (err) {
      show(h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : t('error.page')))
    }
  }
  window.onhashchange = () => void route()
  void route()
}

async function start(): Promise<void> {
  if (!auth.token) return showLogin()
  try {
    const { user } = await api<{ user: User }>('/api/auth/me')
    showApp(user)
  } catch {
    auth.token = null
    showLogin()
  }
}

void start()
