/** The chat panel, loaded on intent. Message text only ever reaches the DOM as text nodes. */
import { h, linkified, timeOf } from '../shared/dom.js'
import { inkOn } from './color.js'
import { connect } from './connection.js'
import { STRINGS } from './i18n.js'
import { adoptCss } from './css.js'
import { panelCss } from './styles.js'
import { KEYS, load, randomId, save } from './storage.js'
import type { Host, Message, UI } from './types.js'

const SEND_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6 3.3 10l12.6 2-12.6 2z"/></svg>'
const CLOSE_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6 6 18"/></svg>'
const AGENT_ICON = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" d="M12 2a7 7 0 0 0-7 7v3a3 3 0 0 0 3 3h1v-6H7a5 5 0 0 1 10 0h-2v6h2v1a2 2 0 0 1-2 2h-2v2h2a4 4 0 0 0 4-4v-1.2A3 3 0 0 0 19 12V9a7 7 0 0 0-7-7Z"/></svg>'
const NARROW = '(max-width: 480px)'

function icon(markup: string): HTMLSpanElement {
  const span = h('span', { class: 'ico' })
  span.innerHTML = markup // constant icon markup of ours, never message content
  return span
}

export function mount(host: Host): UI {
  const { options: o, root } = host
  const t = STRINGS[o.locale]
  adoptCss(root, panelCss(o.color, inkOn(o.color), o.position))

  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t.log, tabindex: 0 })
  const greeting = h('div', { class: 'msg in' }, h('div', { class: 'bubble' }, t.greeting))
  const textarea = h('textarea', { rows: 1, placeholder: t.placeholder, 'aria-label': t.message, maxlength: 4000, enterkeyhint: 'send' })
  const sendBtn = h('button', { type: 'submit', class: 'send', 'aria-label': t.send }, icon(SEND_ICON))
  const composer = h('form', { class: 'composer', onsubmit: (e: Event) => { e.preventDefault(); submit() } }, textarea, sendBtn)
  const ended = h('div', { class: 'ended', hidden: true }, h('p', {}, t.ended),
    h('button', { type: 'button', class: 'primary', onclick: () => { conn.startOver(); textarea.focus() } }, t.newChat))
  const netState = h('div', { class: 'net', role: 'status' })
  const closeBtn = h('button', { type: 'button', class: 'icon', 'aria-label': t.close, onclick: () => ui.close() }, icon(CLOSE_ICON))
  const titleId = 'chat-title'
  const presence = h('span', {}, t.subtitle)
  const dot = h('span', { class: 'dot' })
  const panel = h('div', { class: 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, hidden: true },
    h('header', {},
      h('div', { class: 'avatar', 'aria-hidden': 'true' }, icon(AGENT_ICON)),
      h('div', { class: 'who' }, h('h2', { id: titleId }, o.title ?? t.title), h('p', {}, dot, presence)),
      closeBtn),
    log, netState, ended, composer)
  root.append(panel)
  log.append(greeting)

  const rows = new Map<number, HTMLElement>()
  const pending = new Map<string, HTMLElement>()

  function bubble(m: Pick<Message, 'sender' | 'senderName' | 'text'>, meta: string): HTMLElement {
    const mine = m.sender === 'visitor'
    return h('div', { class: `msg ${mine ? 'out' : 'in'} ${m.sender}` },
      !mine && m.senderName ? h('div', { class: 'name' }, m.senderName) : null,
      h('div', { class: 'bubble' }, linkified(m.text)),
      h('div', { class: 'meta' }, meta))
  }

  function unreadCount(): number {
    const readUpTo = Number(load(KEYS.lastReadSeq) ?? 0)
    let n = 0
    for (const [seq, el] of rows) if (seq > readUpTo && !el.classList.contains('out')) n++
    return n
  }

  function markRead(): void {
    save(KEYS.lastReadSeq, String(conn.lastSeq))
    host.setUnread(0)
  }

  /**
   * Asks once per session for a way to reach the visitor: a phone after their first message;
   * and, while nobody of the team is online, an email at once (replies then go by email).
   */
  function maybeAskContact(by: 'phone' | 'email' = 'phone'): void {
    const sessionId = load(KEYS.sessionId)
    const askedFor = by === 'phone' ? KEYS.contactFor : KEYS.emailFor
    if ((by === 'phone' && !sessionId) || (sessionId && load(askedFor) === sessionId) || root.querySelector(`.contact.${by}`)) return
    const name = by === 'phone' ? h('input', { name: 'name', autocomplete: 'name', maxlength: 100, 'aria-label': t.name, placeholder: t.name, required: true }) : null
    const reach = by === 'email'
      ? h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, 'aria-label': t.email, placeholder: t.email, required: true })
      : h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', maxlength: 32, pattern: '[0-9 +()\\-]*', 'aria-label': t.phone, placeholder: t.phone, required: true })
    const form: HTMLFormElement = h('form', {
      class: `contact ${by}`,
      onsubmit: (e: Event) => {
        e.preventDefault()
        const contact: { name?: string; phone?: string; email?: string } = { [by]: reach.value.trim() }
        if (name) contact.name = name.value.trim()
        void conn.saveContact(contact).then((saved) => {
          if (!saved) return
          save(askedFor, load(KEYS.sessionId))
          form.replaceChildren(h('p', {}, t.thanks))
        })
      },
    }, h('p', {}, by === 'email' ? t.emailAsk : t.contactAsk), name, reach, h('button', { type: 'submit', class: 'primary' }, by === 'email' ? t.saveEmail : t.save))
    log.append(form)
  }

  /** The header says whether anyone is there; nobody: "we reply by email", and the email box. */
  async function showAvailability(): Promise<void> {
    const online = await conn.anyoneOnline()
    if (online === undefined) return
    presence.textContent = online ? t.online : t.byEmail
    dot.classList.toggle('away', !online)
    if (!online && !composer.hidden) maybeAskContact('email')
  }

  const conn = connect(o, {
    messages(list) {
      for (const m of list) {
        const el = bubble(m, timeOf(m.createdAt))
        const mine = m.clientMessageId ? pending.get(m.clientMessageId) : undefined
        if (mine && m.clientMessageId) {
          pending.delete(m.clientMessageId)
          mine.replaceWith(el)
        } else {
          // in seq order; pending messages stay last, below everything the server has confirmed
          let next: HTMLElement | undefined
          let nextSeq = Infinity
          for (const [seq, row] of rows) if (seq > m.seq && seq < nextSeq) [next, nextSeq] = [row, seq]
          log.insertBefore(el, next ?? pending.values().next().value ?? null)
        }
        rows.set(m.seq, el)
        for (const fn of host.listeners) fn(m)
      }
      if (!panel.hidden) markRead()
      else host.setUnread(unreadCount())
      if (list.some((m) => m.sender === 'visitor')) maybeAskContact()
      log.scrollTop = log.scrollHeight
    },
    status(status) {
      ended.hidden = status === 'open'
      composer.hidden = status === 'closed'
      // contact details sent now would open a new session behind the visitor's back
      if (status === 'closed') root.querySelectorAll('.contact').forEach((form) => form.remove())
      if (status === 'closed' && !panel.hidden) ended.querySelector('button')?.focus()
    },
    online(online) {
      netState.textContent = online ? '' : t.offline
    },
    sendFailed(clientMessageId) {
      const el = pending.get(clientMessageId)
      const meta = el?.querySelector('.meta')
      if (!el || !meta) return
      el.classList.add('failed')
      meta.replaceChildren(h('button', { type: 'button', class: 'retry', onclick: () => { meta.textContent = t.sending; el.classList.remove('failed'); conn.send(el.dataset.text ?? '', clientMessageId) } }, t.failed))
    },
    reset() {
      for (const el of [...rows.values(), ...pending.values()]) el.remove()
      rows.clear()
      pending.clear()
      root.querySelectorAll('.contact').forEach((form) => form.remove())
      ended.hidden = true
      composer.hidden = false
      host.setUnread(0)
    },
  })

  function submit(): void {
    const text = textarea.value
    if (!text.trim()) return
    textarea.value = ''
    grow()
    const clientMessageId = randomId('c_')
    const el = bubble({ sender: 'visitor', senderName: null, text }, t.sending)
    el.dataset.text = text
    el.classList.add('pending')
    pending.set(clientMessageId, el)
    log.append(el)
    log.scrollTop = log.scrollHeight
    conn.send(text, clientMessageId)
  }

  function grow(): void {
    textarea.style.height = 'auto'
    textarea.style.height = `${Math.min(textarea.scrollHeight, 120)}px`
  }
  textarea.addEventListener('input', grow)
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      submit()
    }
  })

  // focus stays inside the open panel; Esc closes it
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      ui.close()
    } else if (e.key === 'Tab') {
      const items = [...panel.querySelectorAll<HTMLElement>('button,textarea,input,a[href],[tabindex="0"]')].filter((el) => el.offsetParent !== null)
      const first = items[0]
      const last = items[items.length - 1]
      const active = root.activeElement
      if (e.shiftKey && active === first) { e.preventDefault(); last?.focus() }
      else if (!e.shiftKey && active === last) { e.preventDefault(); first?.focus() }
    }
  })

  // iOS: the on-screen keyboard shrinks the visual viewport, not the layout one
  const vv = window.visualViewport
  const fitViewport = () => {
    if (!vv || panel.hidden || !matchMedia(NARROW).matches) {
      panel.style.removeProperty('height')
      return void panel.style.removeProperty('top')
    }
    panel.style.height = `${vv.height}px`
    panel.style.top = `${vv.offsetTop}px`
  }
  vv?.addEventListener('resize', fitViewport)
  vv?.addEventListener('scroll', fitViewport)

  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && conn.resync())
  window.addEventListener('pageshow', (e) => e.persisted && conn.resync())

  let returnFocus: Element | null = null
  const ui: UI = {
    open() {
      if (!panel.hidden) return
      returnFocus = root.activeElement ?? document.activeElement
      panel.hidden = false
      host.setOpen(true)
      root.host.classList.add('open')
      fitViewport()
      conn.setOpen(true)
      void showAvailability()
      markRead()
      log.scrollTop = log.scrollHeight
      if (composer.hidden) ended.querySelector('button')?.focus()
      else textarea.focus()
    },
    close() {
      if (panel.hidden) return
      panel.hidden = true
      host.setOpen(false)
      root.host.classList.remove('open')
      conn.setOpen(false)
      const target = returnFocus instanceof HTMLElement && returnFocus.isConnected ? returnFocus : host.launcher
      target.focus()
    },
  }
  return ui
}
