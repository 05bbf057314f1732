/** The chat panel, loaded on intent, on the client SDK. Message text only ever reaches the DOM as text nodes. */
import { h, linkified, timeOf } from '../shared/dom.js'
import { createChatClient, type ChatApiError, type Message as WireMessage } from '../../../packages/client/src/index.js'
import { randomId } from '../../../packages/client/src/storage.js'
import { afterChat } from './after-chat.js'
import { attachmentList, uploadBubble } from './files.js'
import { STRINGS } from './i18n.js'
import { AGENT_ICON, CLIP_ICON, CLOSE_ICON, icon, SEND_ICON } from './icons.js'
import { acceptDroppedFiles, fitToViewport, trapFocus } from './panel.js'
import { KEYS, load, save, unsent } from './storage.js'
import { panelCss } from './styles.js'
import type { Host, Message, UI } from './types.js'
import { visitorForms } from './visitor-forms.js'

/** typing frames come about every 2 s while someone types: this long without one, they stopped */
const TYPING_SHOWN_MS = 5000
const AVAILABILITY_FRESH_MS = 30_000

export function mount(host: Host): UI {
  const { options: o, root } = host
  const t = STRINGS[o.locale]
  host.adoptCss(panelCss(o.color, o.position, host.ink, host.focus))
  const client = createChatClient({ baseUrl: o.origin, apiKey: o.apiKey, storage: 'local' })
  client.setActive(false)

  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t.log, tabindex: 0 })
  const greeting = h('div', { class: 'msg in' }, h('div', { class: 'bubble' }, t.greeting))
  const textarea = h('textarea', { rows: 1, placeholder: t.placeholder, 'aria-label': t.message, maxlength: 4000, enterkeyhint: 'send' })
  const fileInput = h('input', { type: 'file', hidden: true, tabindex: -1, 'aria-hidden': 'true', onchange: () => { for (const f of fileInput.files ?? []) sendFile(f); fileInput.value = '' } })
  const attachBtn = h('button', { type: 'button', class: 'icon attach', 'aria-label': t.attach, onclick: () => fileInput.click() }, icon(CLIP_ICON))
  const sendBtn = h('button', { type: 'submit', class: 'send', 'aria-label': t.send }, icon(SEND_ICON))
  const composer = h('form', { class: 'composer', onsubmit: (e: Event) => { e.preventDefault(); submit() } }, attachBtn, fileInput, textarea, sendBtn)
  const ended = h('div', { class: 'ended', hidden: true })
  const netState = h('div', { class: 'net', role: 'status' })
  const typing = h('div', { class: 'typing', role: 'status' })
  const presence = h('span', {}, t.subtitle)
  const dot = h('span', { class: 'dot', hidden: true })
  const closeBtn = h('button', { type: 'button', class: 'icon', 'aria-label': t.close, onclick: () => ui.close() }, icon(CLOSE_ICON))
  const titleId = 'chat-title'
  const panel = h('div', { class: 'panel', lang: o.locale, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, hidden: true },
    h('header', {},
      h('div', { class: 'avatar', 'aria-hidden': 'true' }, icon(AGENT_ICON)),
      h('div', { class: 'who' }, h('h2', { id: titleId }, o.title ?? t.title), h('p', {}, dot, presence)),
      closeBtn),
    log, typing, netState, ended, composer, h('div', { class: 'drop', 'aria-hidden': 'true' }, t.drop))
  root.append(panel)
  log.append(greeting)

  const rows = new Map<number, HTMLElement>()
  const pending = new Map<string, HTMLElement>()
  const seenMark = h('div', { class: 'meta seen' }, t.seen)
  let agentRead = 0
  let typingTimer: ReturnType<typeof setTimeout> | undefined
  let availableAt = 0
  let online = true
  let newChat: HTMLButtonElement | undefined

  const scrollDown = () => void (log.scrollTop = log.scrollHeight)
  const visible = () => !panel.hidden && document.visibilityState === 'visible'
  const sessionDetails = () => ({ pageUrl: location.href.slice(0, 2048), locale: o.locale })
  const ensureSession = () => client.session ?? client.start(sessionDetails())
  const forms = visitorForms(t, client, log, sessionDetails)

  function bubble(m: Pick<Message, 'sender' | 'senderName' | 'text'> & { attachments?: Message['attachments'] }, meta: string): HTMLElement {
    const mine = m.sender === 'visitor'
    return h('div', { class: `msg ${mine ? 'out' : 'in'} ${m.sender}` },
      !mine && m.senderName ? h('div', { class: 'name' }, m.senderName) : null,
      m.text ? h('div', { class: 'bubble' }, linkified(m.text)) : null,
      attachmentList(m.attachments),
      h('div', { class: 'meta' }, meta))
  }

  /** Only what the visitor has actually seen is read: the panel open and the tab visible. */
  function markRead(): void {
    if (!visible()) return host.setUnread(unreadCount())
    const last = client.messages[client.messages.length - 1]
    if (!last) return
    save(KEYS.lastReadSeq, `${last.sessionId}:${last.seq}`)
    host.setUnread(0)
    void client.markRead(last.seq).catch(() => {})
  }

  function unreadCount(): number {
    const [sessionId, seq] = (load(KEYS.lastReadSeq) ?? '').split(':')
    const readUpTo = sessionId === client.session?.id ? Number(seq) : 0
    return client.messages.filter((m) => m.seq > readUpTo && m.sender !== 'visitor').length
  }

  /** "Seen" goes under the visitor's last message the agent has read. */
  function placeSeen(): void {
    let target: HTMLElement | undefined
    for (const m of client.messages) if (m.sender === 'visitor' && m.seq <= agentRead) target = rows.get(m.seq)
    if (target) target.append(seenMark)
    else seenMark.remove()
  }

  function refreshAvailability(): void {
    if (Date.now() - availableAt < AVAILABILITY_FRESH_MS) return
    availableAt = Date.now()
    client.availability().then((a) => {
      online = a.online
      dot.hidden = !online
      presence.textContent = online ? t.online : t.byEmail
      if (!online) forms.askEmail()
    }, () => void (availableAt = 0))
  }

  /** Where a bubble goes: the conversation (confirmed messages in seq order, then pending ones) ends above the forms. */
  function place(el: HTMLElement, before: Element | undefined): void {
    log.insertBefore(el, before ?? log.querySelector(':scope > .contact'))
  }

  function clearConversation(): void {
    for (const el of [...rows.values(), ...pending.values()]) el.remove()
    rows.clear()
    pending.clear()
    forms.remove()
    agentRead = 0
    seenMark.remove()
    host.setUnread(0)
  }

  function showStatus(closed: boolean): void {
    ended.hidden = !closed
    composer.hidden = closed
    if (!closed) return ended.replaceChildren()
    // contact details sent now would open a new session behind the visitor's back
    forms.remove()
    typing.textContent = ''
    // no session until the visitor's first message (an empty one would sit in the agents' inbox);
    // reset keeps the closed session's token, which proves the next one is this visitor's too
    newChat = h('button', { type: 'button', class: 'primary', onclick: startOver }, t.newChat)
    ended.replaceChildren(h('p', {}, t.ended), afterChat(t, client, forms.hasEmail), newChat)
    if (!panel.hidden) newChat.focus()
  }

  let shownSession: string | undefined
  function startOver(): void {
    client.reset()
    shownSession = undefined
    clearConversation()
    showStatus(false)
    textarea.focus()
  }
  client.on('session', (s) => {
    if (shownSession && shownSession !== s.id) clearConversation()
    shownSession = s.id
    showStatus(s.status === 'closed')
  })
  client.on('lost', () => {
    clearConversation()
    showStatus(false)
    // the session is gone (erased): what the visitor wrote and was not stored goes to a new one, as after a reload
    resendUnsent()
  })
  client.on('message', (wire: WireMessage) => {
    const m = wire as Message
    const el = bubble(m, timeOf(m.createdAt))
    if (m.clientMessageId) dropPending(m.clientMessageId)
    // messages come in seq order: each goes after the last confirmed one, above what is still pending
    // (a file still uploading, a failed send) even when it was sent after them
    place(el, pending.values().next().value)
    rows.set(m.seq, el)
    if (m.sender !== 'visitor') typing.textContent = ''
    placeSeen()
    for (const fn of host.listeners) fn(m)
    markRead()
    if (m.sender === 'visitor') forms.askContact()
    scrollDown()
  })
  client.on('read', (r) => {
    agentRead = r.seq
    placeSeen()
  })
  client.on('typing', (who) => {
    typing.textContent = `${who.name ?? t.support} ${t.typing}`
    clearTimeout(typingTimer)
    typingTimer = setTimeout(() => void (typing.textContent = ''), TYPING_SHOWN_MS)
  })
  client.on('connection', (state) => void (netState.textContent = state === 'offline' && client.session?.status === 'open' && !panel.hidden ? t.offline : ''))

  function addPending(clientMessageId: string, el: HTMLElement): void {
    pending.set(clientMessageId, el)
    place(el, undefined)
    scrollDown()
  }

  function dropPending(clientMessageId: string): void {
    pending.get(clientMessageId)?.remove()
    pending.delete(clientMessageId)
    unsent.remove(clientMessageId)
  }

  function resendUnsent(): void {
    for (const [clientMessageId, text] of unsent.all()) deliver(text, clientMessageId, pendingBubble(text, clientMessageId))
  }

  function pendingBubble(text: string, clientMessageId: string): HTMLElement {
    const el = bubble({ sender: 'visitor', senderName: null, text }, t.sending)
    el.classList.add('pending')
    addPending(clientMessageId, el)
    return el
  }

  function deliver(text: string, clientMessageId: string, el: HTMLElement, attachments?: string[]): void {
    void Promise.resolve(ensureSession()).then(() => client.send(text, { clientMessageId, attachments })).catch((err: ChatApiError) => {
      if (err.code === 'SESSION_CLOSED') return dropPending(clientMessageId)
      const meta = el.querySelector('.meta')
      el.classList.add('failed')
      // the retry button goes once pressed: the keyboard goes on in the message box, not on the page behind the panel
      meta?.replaceChildren(h('button', { type: 'button', class: 'retry', onclick: () => { meta.textContent = t.sending; el.classList.remove('failed'); textarea.focus(); deliver(text, clientMessageId, el, attachments) } }, t.failed))
    })
  }

  function submit(): void {
    const text = textarea.value
    if (!text.trim()) return
    textarea.value = ''
    grow()
    const clientMessageId = randomId('c_')
    unsent.add(clientMessageId, text)
    deliver(text, clientMessageId, pendingBubble(text, clientMessageId))
  }

  /** Uploads a file (progress, cancel) and sends it as a message of its own. */
  function sendFile(file: File): void {
    const abort = new AbortController()
    const up = uploadBubble(t, file, () => abort.abort())
    const clientMessageId = randomId('c_')
    addPending(clientMessageId, up.el)
    void Promise.resolve(ensureSession())
      .then(() => client.upload(file, file.name, { signal: abort.signal, onProgress: (p) => up.progress(p.loaded, p.total) }))
      .then((a) => deliver('', clientMessageId, up.el, [a.id]), (err: Error) => {
        if (err.name === 'AbortError') dropPending(clientMessageId)
        else up.failed(err)
      })
  }

  function grow(): void {
    textarea.style.height = 'auto'
    textarea.style.height = `${Math.min(textarea.scrollHeight, 120)}px`
  }
  textarea.addEventListener('input', () => {
    grow()
    if (textarea.value.trim()) client.typing()
  })
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      submit()
    }
  })
  textarea.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])]
    if (!files.length) return
    e.preventDefault()
    files.forEach(sendFile)
  })
  acceptDroppedFiles(panel, composer, sendFile)
  trapFocus(panel, root, () => ui.close())
  const fitViewport = fitToViewport(panel)

  // a tab shown again reconnects at once and marks read what is now in view
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return
    client.setActive(!panel.hidden)
    markRead()
  })

  // an email's link (#chat_resume=<token>, used once, then taken off the address) reopens its
  // conversation in any browser; else, or when the link is spent, a returning visitor's resumes
  // at once, so replies show on the launcher's badge
  const link = /chat_resume=([\w-]+)/.exec(location.hash)?.[1]
  if (link) history.replaceState(null, '', location.href.split('#')[0])
  void (link ? client.resume(link).then(() => ui.open()) : Promise.reject())
    .catch((): unknown => client.hasStoredSession && client.start())
    // what was sent before a reload and never stored goes again (stored meanwhile, its id makes it a no-op)
    .then(resendUnsent, resendUnsent)

  let returnFocus: Element | null = null
  const ui: UI = {
    open() {
      if (!panel.hidden) return
      returnFocus = root.activeElement ?? document.activeElement
      panel.hidden = false
      host.setOpen(true)
      root.host.classList.add('open')
      fitViewport()
      client.setActive(true)
      refreshAvailability()
      markRead()
      scrollDown()
      if (composer.hidden) newChat?.focus()
      else textarea.focus()
    },
    close() {
      if (panel.hidden) return
      panel.hidden = true
      host.setOpen(false)
      root.host.classList.remove('open')
      client.setActive(false)
      const target = returnFocus instanceof HTMLElement && returnFocus.isConnected ? returnFocus : host.launcher
      target.focus()
    },
  }
  return ui
}
