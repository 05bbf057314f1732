import { h } from '../shared/dom.js'
import { api, ApiError, type Message, type Note, type Session, type User } from './api.js'
import { chime, showUnreadChats } from './attention.js'
import { type Conversation, logItems } from './conversation-log.js'
import { conversationView } from './conversation-view.js'
import { displayName } from './format.js'
import { t } from './i18n.js'
import { filterBar, filtered, listQuery, noFilters } from './inbox-filters.js'
import { labelsInUse } from './labels.js'
import type { ChatEvent } from './live.js'
import type { Draft } from './reply.js'
import { sessionRow } from './session-row.js'
import { typingIndicator } from './typing.js'

const PAGE_SIZE = 20
const RELOAD_DEBOUNCE_MS = 300
const AGE_REFRESH_MS = 60_000

/** The session list with its filters, and the open conversation beside it (or instead of it on a phone). */
export function createInbox(me: User, navigate: (id: string | null) => void) {
  const filters = noFilters()
  // what is being written in the open conversation survives its redraws (a label added, an assignment)
  const draft: Draft = { text: '', note: false }
  let sessions: Session[] = []
  let total = 0
  let current: Conversation | undefined
  let selectedId: string | null = null

  const listEl = h('ul', { class: 'sessions', 'aria-label': t('inbox.chats') })
  const pager = h('div', { class: 'pager' })
  const convEl = h('section', { class: 'conversation', 'aria-label': t('conv.region') })
  const filterControls = filterBar(filters, () => {
    filters.page = 1
    void loadList()
  })
  const root = h('div', { class: 'inbox' }, h('section', { class: 'list-pane' }, filterControls.el, listEl, pager), convEl)
  const typing = typingIndicator()

  // loads overlap (a filter changed while a live update's reload is on its way); only the
  // latest one's answer is shown, or a slow older answer would undo the filter
  let latestLoad = 0
  async function loadList(): Promise<void> {
    const load = ++latestLoad
    const r = await api<{ sessions: Session[]; total: number }>(`/api/chat/sessions?${listQuery(filters, PAGE_SIZE)}`)
    if (load !== latestLoad) return
    sessions = r.sessions
    total = r.total
    renderList()
    void countUnread()
  }

  // a burst of events about chats not on screen costs one reload
  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  function reloadSoon(): void {
    clearTimeout(reloadTimer)
    reloadTimer = setTimeout(() => void loadList().catch(() => {}), RELOAD_DEBOUNCE_MS)
  }

  async function countUnread(): Promise<void> {
    const r = await api<{ total: number }>('/api/chat/sessions?unread=true&limit=1')
    showUnreadChats(r.total)
  }

  /** The row of a chat, to give keyboard focus back to: redraws replace every row. */
  const rowOf = (id: string) => listEl.querySelector<HTMLElement>(`a[href="#/inbox/${CSS.escape(id)}"]`)

  function renderList(): void {
    const focusedId = listEl.contains(document.activeElement) ? document.activeElement?.getAttribute('href')?.replace('#/inbox/', '') : undefined
    listEl.replaceChildren(...sessions.map((s) => sessionRow(s, s.id === selectedId)))
    if (focusedId) rowOf(focusedId)?.focus()
    if (!sessions.length) listEl.append(h('li', { class: 'empty' }, filtered(filters) ? t('inbox.noMatch') : t('inbox.empty')))
    const first = total ? (filters.page - 1) * PAGE_SIZE + 1 : 0
    pager.replaceChildren(
      h('button', { type: 'button', class: 'ghost', disabled: filters.page <= 1, onclick: () => { filters.page--; void loadList() } }, t('inbox.newer')),
      h('span', {}, t('inbox.range', { first, last: Math.min(total, filters.page * PAGE_SIZE), total })),
      h('button', { type: 'button', class: 'ghost', disabled: filters.page * PAGE_SIZE >= total, onclick: () => { filters.page++; void loadList() } }, t('inbox.older')))
  }

  /**
   * Redraws the log from the first entry that changed on: it is a live region, and a screen reader
   * reads out every node put into it, so a new message must not put the whole conversation back.
   */
  function redrawLog(): void {
    const log = convEl.querySelector('.log')
    if (!log || !current) return
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40
    const items = logItems(current)
    const shown = [...log.children]
    let same = 0
    while (same < items.length && same < shown.length && shown[same]?.isEqualNode(items[same] ?? null)) same++
    for (const gone of shown.slice(same)) gone.remove()
    log.append(...items.slice(same))
    if (atBottom) log.scrollTop = log.scrollHeight
  }

  function renderConversation(): void {
    const focusWasHere = document.activeElement instanceof HTMLElement && convEl.contains(document.activeElement)
    const focused = focusWasHere ? (document.activeElement as HTMLElement).dataset.focus : undefined
    if (!current) {
      convEl.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, t('conv.pick'))))
      root.classList.remove('has-conversation')
      return
    }
    root.classList.add('has-conversation')
    const { session: s } = current
    typing.hide()
    const view = conversationView(current, me, draft, typing.el, updateSession, { message: noteMessage, note: (n) => addNotes(s.id, [n]) })
    convEl.replaceChildren(...view.nodes)
    view.log.scrollTop = view.log.scrollHeight
    // a redraw (an assignment, a close, a colleague's change) keeps the keyboard where it was; a control
    // that is gone (Close in a closed chat) hands the focus to the conversation's heading, never to <body>
    if (focusWasHere) (convEl.querySelector<HTMLElement>(`[data-focus="${focused}"]`) ?? convEl.querySelector<HTMLElement>('[data-focus="heading"]'))?.focus()
    // files dropped anywhere on the conversation go with the reply
    convEl.ondragover = s.status === 'open' ? (e) => e.preventDefault() : null
    convEl.ondrop = s.status === 'open' ? (e) => {
      e.preventDefault()
      view.drop([...(e.dataTransfer?.files ?? [])])
    } : null
  }

  async function openConversation(id: string | null): Promise<void> {
    if (id !== selectedId) Object.assign(draft, { text: '', note: false })
    const left = selectedId
    const focusWasInConversation = convEl.contains(document.activeElement)
    selectedId = id
    renderList()
    if (!id) {
      current = undefined
      renderConversation()
      // "Back to chats" (a phone) hides the conversation with the focus in it: the focus goes to the chat just left
      if (left && focusWasInConversation) rowOf(left)?.focus()
      return
    }
    current = await api<Conversation>(`/api/chat/sessions/${id}`)
    renderConversation()
    convEl.querySelector('textarea')?.focus()
    await markRead(id)
  }

  async function markRead(id: string): Promise<void> {
    const r = await api<{ session: Session }>(`/api/chat/sessions/${id}/read`, { method: 'POST' })
    updateSession(r.session)
    void countUnread()
  }

  function addMessages(sessionId: string, list: Message[]): void {
    if (current?.session.id !== sessionId) return
    const known = new Set(current.messages.map((m) => m.seq))
    const fresh = list.filter((m) => !known.has(m.seq))
    if (!fresh.length) return
    current.messages = [...current.messages, ...fresh].sort((a, b) => a.seq - b.seq)
    if (fresh.some((m) => m.sender === 'visitor')) typing.hide()
    redrawLog()
    scrollToEnd()
  }

  function addNotes(sessionId: string, list: Note[]): void {
    if (current?.session.id !== sessionId) return
    const known = new Set(current.notes.map((n) => n.id))
    const fresh = list.filter((n) => !known.has(n.id))
    if (!fresh.length) return
    current.notes = [...current.notes, ...fresh]
    redrawLog()
    scrollToEnd()
  }

  function scrollToEnd(): void {
    const log = convEl.querySelector('.log')
    if (log) log.scrollTop = log.scrollHeight
  }

  function updateSession(s: Session): void {
    const i = sessions.findIndex((x) => x.id === s.id)
    if (i >= 0) sessions[i] = { ...sessions[i], ...s }
    renderList()
    if (current?.session.id === s.id) {
      const before = current.session
      current.session = { ...current.session, ...s }
      const changed = before.status !== s.status || before.assignedTo?.id !== s.assignedTo?.id || before.labels.join() !== s.labels.join() ||
        (s.rating !== undefined && before.rating?.score !== s.rating?.score)
      if (changed) renderConversation()
      else if (before.visitorReadSeq !== s.visitorReadSeq) redrawLog()
    }
    // the chat may have left (or joined) what a filter shows
    if (filters.assigned !== 'all' || filters.label) reloadSoon()
    // a label someone else has just used is offered in the filter too
    void labelsInUse().then((names) => {
      if (s.labels.some((l) => !names.includes(l))) void labelsInUse(true)
    }, () => {})
  }

  /** A new message moves its chat to the top, updates the preview and, unless it is being read, the unread count. */
  function noteMessage(m: Message): void {
    addMessages(m.sessionId, [m])
    const s = sessions.find((x) => x.id === m.sessionId)
    if (!s) return reloadSoon()
    if (s.lastMessage && s.lastMessage.seq >= m.seq) return
    const viewing = current?.session.id === m.sessionId && document.visibilityState === 'visible'
    s.lastMessage = m
    s.lastMessageAt = m.createdAt
    // as on the server: a visitor message adds one, an agent's reply reads the chat
    if (m.sender === 'visitor' && !viewing) s.unreadCount++
    if (m.sender === 'agent') s.unreadCount = 0
    sessions = [s, ...sessions.filter((x) => x !== s)]
    renderList()
    if (m.sender === 'visitor' && viewing) void markRead(m.sessionId)
    else void countUnread()
  }

  /** Erased (here or on another dashboard): gone from the list, and from the screen if open. */
  function dropSession(id: string): void {
    const before = sessions.length
    sessions = sessions.filter((s) => s.id !== id)
    if (sessions.length < before) total--
    renderList()
    if (current?.session.id === id) {
      const focusWasInConversation = convEl.contains(document.activeElement)
      current = undefined
      selectedId = null
      const notice = h('p', { role: 'status', tabindex: -1 }, t('privacy.erasedHere'))
      convEl.replaceChildren(h('div', { class: 'placeholder' }, notice))
      root.classList.remove('has-conversation')
      // erased from this screen (its Erase button had the focus): the focus goes to the notice, or on a phone, where the list replaces it, to the search
      if (focusWasInConversation) {
        notice.focus()
        if (document.activeElement !== notice) root.querySelector<HTMLElement>('input[type="search"]')?.focus()
      }
      if (location.hash !== '#/inbox') history.replaceState(null, '', '#/inbox')
    }
    void countUnread()
  }

  const firstPageUnfiltered = () => filters.page === 1 && !filtered(filters) && filters.status !== 'closed'

  // "2 min" ages while the list stays on screen
  const clock = setInterval(renderList, AGE_REFRESH_MS)

  return {
    el: root,
    dispose: () => {
      clearInterval(clock)
      filterControls.dispose()
    },
    load: loadList,
    open: (id: string | null) => openConversation(id).catch(() => navigate(null)),
    /** REST catch-up when the socket was down or has just come back */
    async refetch(): Promise<void> {
      await loadList()
      if (current) {
        const id = current.session.id
        const fresh = await api<Conversation>(`/api/chat/sessions/${id}`).catch((err: unknown) => {
          // erased while the socket was away (or before it first connected): its event never came here
          if (err instanceof ApiError && err.status === 404) return dropSession(id)
          throw err
        })
        if (!fresh) return
        addMessages(fresh.session.id, fresh.messages)
        addNotes(fresh.session.id, fresh.notes)
        updateSession(fresh.session)
      }
    },
    event(e: Exclude<ChatEvent, { type: 'user.updated' }>): void {
      if (e.type === 'session.created') {
        chime()
        if (firstPageUnfiltered() && !sessions.some((s) => s.id === e.session.id)) {
          sessions = [e.session, ...sessions].slice(0, PAGE_SIZE)
          total++
          renderList()
        }
        void countUnread()
      } else if (e.type === 'session.erased') {
        dropSession(e.session.id)
      } else if (e.type === 'session.updated') {
        updateSession(e.session)
        void countUnread()
      } else if (e.type === 'typing') {
        if (current?.session.id === e.sessionId) typing.show(displayName(current.session))
      } else if (e.type === 'read') {
        const s = sessions.find((x) => x.id === e.sessionId) ?? (current?.session.id === e.sessionId ? current.session : undefined)
        if (s && e.seq > s.visitorReadSeq) updateSession({ ...s, visitorReadSeq: e.seq })
      } else if (e.type === 'message.created') {
        noteMessage(e.message)
      } else {
        addNotes(e.note.sessionId, [e.note])
      }
    },
  }
}
