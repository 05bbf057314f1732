/**
 * The part of the widget every page pays for: reads the script tag, draws the launcher in
 * an open shadow root, and loads the chat UI chunk on the first sign of intent.
 */
import type { Host, Locale, Message, UI, WidgetOptions } from './types.js'
import { accentOnWhite, inkOn } from './color.js'
import { adoptCss } from './css.js'

declare const __UI_CHUNK__: string

type Api = { open: () => void; close: () => void; onMessage: (fn: (m: Message) => void) => void }
declare global {
  interface Window { ChatWidget?: Api }
}

const LAUNCHER_LABEL: Record<Locale, [string, string]> = {
  en: ['Open chat', 'Close chat'],
  uk: ['Відкрити чат (chat)', 'Закрити чат (chat)'],
  ru: ['Открыть чат (chat)', 'Закрыть чат (chat)'],
}
const UNREAD: Record<Locale, string> = { en: 'unread', uk: 'непрочитаних', ru: 'непрочитанных' }
// the chat UI chunk could not be fetched (server down, network gone): a click must not look dead
const UNAVAILABLE: Record<Locale, string> = {
  en: 'Chat is unavailable right now. Please try again later.',
  uk: 'Чат зараз недоступний. Спробуйте пізніше.',
  ru: 'Чат сейчас недоступен. Попробуйте позже.',
}

const CHAT_ICON = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.3 21l4-1.9c1.1.3 2.4.5 3.7.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3Z"/></svg>'
const CLOSE_ICON = '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" d="M6 6l12 12M18 6 6 18"/></svg>'

function readOptions(script: HTMLScriptElement): WidgetOptions {
  const d = script.dataset
  const wanted = (d.locale ?? navigator.language ?? 'en').slice(0, 2).toLowerCase()
  return {
    apiKey: d.apiKey ?? '',
    origin: new URL(script.src, location.href).origin,
    title: d.title,
    color: /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(d.color ?? '') ? (d.color as string) : '#4f46e5',
    locale: wanted === 'uk' || wanted === 'ru' ? wanted : 'en',
    position: d.position === 'left' ? 'left' : 'right',
  }
}

// [hidden] for the whole shadow root, the panel's too: its elements' own display (grid, flex) must not show them
const CSS = (o: WidgetOptions, ink: string, focus: string) => `
:host{all:initial}
.launch{position:fixed;bottom:20px;${o.position}:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;
background:${o.color};color:${ink};display:grid;place-items:center;box-shadow:0 6px 24px rgba(0,0,0,.22);transition:transform .2s}
.launch:hover{transform:scale(1.06)}
.launch:focus-visible{outline:3px solid ${focus};outline-offset:3px}
.badge{position:absolute;top:-2px;${o.position === 'left' ? 'left' : 'right'}:-2px;min-width:20px;height:20px;padding:0 6px;box-sizing:border-box;border-radius:10px;
background:#e11d48;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center;border:2px solid #fff}
[hidden]{display:none!important}
.note{position:fixed;bottom:90px;${o.position}:20px;z-index:2147483000;max-width:240px;padding:10px 12px;border-radius:8px;
background:#fff;color:#1f2937;font:14px/1.4 system-ui,sans-serif;box-shadow:0 6px 24px rgba(0,0,0,.22)}
.note:empty{display:none}
@media (max-width:480px),(max-height:500px){:host(.open) .launch{display:none}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`

function start(script: HTMLScriptElement): void {
  const options = readOptions(script)
  const hostEl = document.createElement('div')
  hostEl.setAttribute('data-chat-widget', '')
  const root = hostEl.attachShadow({ mode: 'open' })
  const ink = inkOn(options.color)
  const focus = accentOnWhite(options.color)
  adoptCss(root, CSS(options, ink, focus))
  const launcher = document.createElement('button')
  launcher.className = 'launch'
  launcher.type = 'button'
  launcher.setAttribute('aria-haspopup', 'dialog')
  const icon = document.createElement('span')
  const badge = document.createElement('span')
  badge.className = 'badge'
  badge.hidden = true
  badge.setAttribute('aria-hidden', 'true')
  launcher.append(icon, badge)
  // in the page from the start, empty: a live region announces only text added later
  const note = document.createElement('div')
  note.className = 'note'
  note.setAttribute('role', 'status')
  root.append(launcher, note)
  document.body.append(hostEl)

  const [openLabel, closeLabel] = LAUNCHER_LABEL[options.locale]
  let isOpen = false
  let unread = 0
  const label = () => {
    launcher.setAttribute('aria-label', isOpen ? closeLabel : unread ? `${openLabel}, ${unread} ${UNREAD[options.locale]}` : openLabel)
    launcher.setAttribute('aria-expanded', String(isOpen))
    // constant markup of our own; message text never goes through innerHTML
    icon.innerHTML = isOpen ? CLOSE_ICON : CHAT_ICON
  }
  label()

  const listeners: ((m: Message) => void)[] = []
  const host: Host = {
    options, root, launcher, listeners, ink, focus,
    adoptCss: (css) => adoptCss(root, css),
    setUnread: (n) => {
      unread = n
      badge.hidden = n === 0 || isOpen
      badge.textContent = n > 9 ? '9+' : String(n)
      label()
    },
    setOpen: (o) => {
      isOpen = o
      host.setUnread(unread)
    },
  }

  let ui: Promise<UI> | undefined
  const load = () => (ui ??= import(`${options.origin}/${__UI_CHUNK__}`)
    .then((m: { mount: (h: Host) => UI }) => m.mount(host))
    .catch((err: unknown) => {
      ui = undefined
      throw err
    }))
  const run = (fn: (u: UI) => void) => {
    note.textContent = ''
    void load().then(fn, (err: unknown) => {
      console.warn('chat widget:', err)
      // the next click loads again (load forgets a failed attempt)
      note.textContent = UNAVAILABLE[options.locale]
    })
  }

  for (const ev of ['pointerenter', 'focus', 'touchstart']) launcher.addEventListener(ev, () => void load().catch(() => {}), { passive: true, once: true })
  launcher.addEventListener('click', () => run((u) => (isOpen ? u.close() : u.open())))
  window.ChatWidget = {
    open: () => run((u) => u.open()),
    close: () => run((u) => u.close()),
    onMessage: (fn) => void listeners.push(fn),
  }
  // a returning visitor gets the UI early, so replies that arrive while the chat is closed show on
  // the badge; so does a page opened from an email's link (#chat_resume=...), whose chat then opens
  try {
    if (/chat_resume=/.test(location.hash) || localStorage.getItem('chatSessionId')) setTimeout(() => void load().catch(() => {}), 1500)
  } catch {
    // storage blocked (private mode, sandboxed frame): the chat still works for this page view
  }
}

const self = (document.currentScript ?? document.querySelector('script[src*="/widget.js"][data-api-key]')) as HTMLScriptElement | null
if (self && !self.dataset.apiKey) console.warn('chat widget: the script tag needs data-api-key')
else if (self && !window.ChatWidget) {
  if (document.body) start(self)
  else document.addEventListener('DOMContentLoaded', () => start(self))
}
