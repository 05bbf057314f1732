import { h, linkified } from '../shared/dom.js'
import { api, ApiError, type Message, type Note, type Session, type User } from './api.js'
import { assignControls } from './assign.js'
import { attachmentsEl, createAttachments } from './attach.js'
import { chime, showUnreadChats } from './attention.js'
import { attachCanned } from './canned.js'
import { ago, dateTime, dayAfter, displayName, languageName, number, time } from './format.js'
import { plural, t } from './i18n.js'
import { labelChips, labelsEditor, labelsInUse, watchLabelsInUse } from './labels.js'
import type { ChatEvent } from './live.js'
import { noteEl, noteSwitch, timeline } from './notes.js'
import { ratingDetail, sessionActions } from './privacy.js'
import { typingIndicator, typingSender } from './typing.js'

const PAGE_SIZE = 20
const SEARCH_DEBOUNCE_MS = 300
const RELOAD_DEBOUNCE_MS = 300
const AGE_REFRESH_MS = 60_000

type Assigned = 'all' | 'me' | 'none'
type Filters = { status: 'all' | 'open' | 'closed'; rating: string; search: string; unread: boolean; from: string; to: string; page: number; assigned: Assigned; label: string }
type Conversation = { session: Session; messages: Message[]; notes: Note[] }

/** The session list with its filters, and the open conversation beside it (or instead of it on a phone). */
export function createInbox(me: User, navigate: (id: string | null) => void) {
  const isAdmin = me.role === 'admin'
  const filters: Filters = { status: 'all', rating: '', search: '', unread: false, from: '', to: '', page: 1, assigned: 'all', label: '' }
  // what is being written in the open conversation survives its redraws (a label added, an assignment)
  const draft = { text: '', note: false }
  let unwatchLabels = () => {}
  let sessions: Session[] = []
  let total = 0
  let current: Conversation | undefined
  let selectedId: string | null = null

  const listEl = h('ul', { class: 'sessions', 'aria-label': t('inbox.chats') })
  const pager = h('div', { class: 'pager' })
  const convEl = h('section', { class: 'conversation', 'aria-label': t('conv.region') })
  const root = h('div', { class: 'inbox' }, h('section', { class: 'list-pane' }, filterBar(), listEl, pager), convEl)
  const typing = typingIndicator()

  function filterBar(): HTMLElement {
    let timer: ReturnType<typeof setTimeout> | undefined
    const change = () => {
      filters.page = 1
      void loadList()
    }
    const search = h('input', { type: 'search', placeholder: t('inbox.searchPlaceholder'), 'aria-label': t('inbox.search'), oninput: () => {
      clearTimeout(timer)
      timer = setTimeout(() => { filters.search = search.value.trim(); change() }, SEARCH_DEBOUNCE_MS)
    } })
    const status = h('select', { 'aria-label': t('field.status'), onchange: () => { filters.status = status.value as Filters['status']; change() } },
      h('option', { value: 'all' }, t('inbox.all')), h('option', { value: 'open' }, t('inbox.open')), h('option', { value: 'closed' }, t('inbox.closed')))
    const rating = h('select', { 'aria-label': t('inbox.rating'), onchange: () => { filters.rating = rating.value; change() } },
      h('option', { value: '' }, t('inbox.anyRating')), h('option', { value: 'rated' }, t('inbox.rated')), h('option', { value: 'unrated' }, t('inbox.notRated')),
      [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, t('inbox.stars', { n }))))
    const unread = h('input', { type: 'checkbox', onchange: () => { filters.unread = unread.checked; change() } })
    const from = h('input', { type: 'date', 'aria-label': t('inbox.fromDate'), onchange: () => { filters.from = from.value; change() } })
    const to = h('input', { type: 'date', 'aria-label': t('inbox.toDate'), onchange: () => { filters.to = to.value; change() } })
    // one choice of three: radios (a button named "Unassigned" would also answer to the conversation's "Unassign")
    const assigned = (['me', 'none', 'all'] as const).map((value) => h('label', { class: 'seg' },
      h('input', { type: 'radio', name: 'assigned', value, checked: filters.assigned === value, onchange: () => { filters.assigned = value; change() } }),
      t(value === 'me' ? 'inbox.mine' : value === 'none' ? 'inbox.unassigned' : 'inbox.everyone')))
    const label: HTMLSelectElement = h('select', { 'aria-label': t('inbox.label'), onchange: () => { filters.label = label.value; change() } },
      h('option', { value: '' }, t('inbox.anyLabel')))
    const fillLabels = (names: string[]) => label.replaceChildren(h('option', { value: '' }, t('inbox.anyLabel')),
      ...names.map((n) => h('option', { value: n, selected: n === filters.label }, n)))
    unwatchLabels = watchLabelsInUse(fillLabels)
    return h('div', { class: 'filters' }, search,
      h('div', { class: 'filter-row' }, h('fieldset', { class: 'segmented' }, h('legend', { class: 'visually-hidden' }, t('inbox.assignment')), assigned), label),
      h('div', { class: 'filter-row' }, status, rating, h('label', { class: 'check' }, unread, t('inbox.unreadOnly'))),
      h('div', { class: 'filter-row dates' }, from, h('span', { 'aria-hidden': 'true' }, '–'), to))
  }

  async function loadList(): Promise<void> {
    const q = new URLSearchParams({ status: filters.status, page: String(filters.page), limit: String(PAGE_SIZE) })
    if (filters.search) q.set('search', filters.search)
    if (filters.unread) q.set('unread', 'true')
    if (filters.rating === 'rated' || filters.rating === 'unrated') q.set('rated', String(filters.rating === 'rated'))
    else if (filters.rating) q.set('rating', filters.rating)
    if (filters.from) q.set('from', filters.from)
    if (filters.to) q.set('to', dayAfter(filters.to))
    if (filters.assigned !== 'all') q.set('assignedTo', filters.assigned)
    if (filters.label) q.set('label', filters.label)
    const r = await api<{ sessions: Session[]; total: number }>(`/api/chat/sessions?${q}`)
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

  function renderList(): void {
    listEl.replaceChildren(...sessions.map((s) => {
      const last = s.lastMessage
      const preview = !last ? t('inbox.noMessages')
        : last.sender === 'visitor' ? last.text
        : t(last.sender === 'agent' && s.visitorReadSeq >= last.seq ? 'inbox.youSeen' : 'inbox.you', { text: last.text })
      return h('li', {}, h('a', {
        href: `#/inbox/${s.id}`,
        class: `row${s.id === selectedId ? ' selected' : ''}${s.unreadCount ? ' unread' : ''}`,
        'aria-current': s.id === selectedId ? 'true' : undefined,
      },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, displayName(s).slice(0, 1).toUpperCase()),
      h('span', { class: 'row-main' },
        h('span', { class: 'row-top' }, h('span', { class: 'who' }, displayName(s)), h('time', {}, ago(s.lastMessageAt ?? s.createdAt))),
        h('span', { class: 'row-bottom' },
          h('span', { class: 'preview' }, preview),
          s.status === 'closed' ? h('span', { class: 'pill closed' }, t('status.closed')) : null,
          s.unreadCount ? h('span', { class: 'count', 'aria-label': plural('inbox.unread', s.unreadCount) }, number(s.unreadCount)) : null),
        s.labels.length || s.assignedTo ? h('span', { class: 'row-tags' }, labelChips(s.labels),
          s.assignedTo ? h('span', { class: 'muted' }, t('inbox.assignedTo', { name: s.assignedTo.name })) : null) : null)))
    }))
    if (!sessions.length) listEl.append(h('li', { class: 'empty' }, filtered() ? t('inbox.noMatch') : t('inbox.empty')))
    const first = total ? (filters.page - 1) * PAGE_SIZE + 1 : 0
    pager.replaceChildren(
      h('button', { type: 'button', class: 'ghost', disabled: filters.page <= 1, onclick: () => { filters.page--; void loadList() } }, t('inbox.newer')),
      h('span', {}, t('inbox.range', { first, last: Math.min(total, filters.page * PAGE_SIZE), total })),
      h('button', { type: 'button', class: 'ghost', disabled: filters.page * PAGE_SIZE >= total, onclick: () => { filters.page++; void loadList() } }, t('inbox.older')))
  }

  function messageEl(m: Message, seen: boolean): HTMLElement {
    return h('div', { class: `msg ${m.sender === 'visitor' ? 'in' : 'out'} ${m.sender}`, 'data-seq': m.seq },
      h('div', { class: 'bubble' }, m.text ? h('p', {}, linkified(m.text)) : null, attachmentsEl(m.attachments ?? [])),
      h('div', { class: 'meta' }, [m.sender === 'visitor' ? null : m.senderName ?? t(`sender.${m.sender}`), time(m.createdAt), seen ? t('conv.seen') : null].filter(Boolean).join(' · ')))
  }

  /** Messages and private notes in the order they were written, "Seen" under the last agent message the visitor has read. */
  function logItems({ session, messages, notes }: Conversation): HTMLElement[] {
    const seen = messages.filter((m) => m.sender === 'agent' && m.seq <= session.visitorReadSeq).at(-1)
    return timeline(messages, notes).map((e) => (e.kind === 'message' ? messageEl(e.message, e.message === seen) : noteEl(e.note)))
  }

  function redrawLog(): void {
    const log = convEl.querySelector('.log')
    if (!log || !current) return
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40
    log.replaceChildren(...logItems(current))
    if (atBottom) log.scrollTop = log.scrollHeight
  }

  function renderConversation(): void {
    const focused = document.activeElement instanceof HTMLElement && convEl.contains(document.activeElement) ? document.activeElement.dataset.focus : undefined
    if (!current) {
      convEl.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, t('conv.pick'))))
      root.classList.remove('has-conversation')
      return
    }
    root.classList.add('has-conversation')
    const { session: s } = current
    const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t('conv.messagesWith', { name: displayName(s) }) }, logItems(current))
    typing.hide()
    const text = h('textarea', { rows: 2, 'aria-label': t('conv.reply'), maxlength: 4000, 'data-focus': 'reply', 'aria-describedby': `note-hint-${s.id}` })
    text.value = draft.text
    text.addEventListener('input', () => (draft.text = text.value))
    const noteHint = h('p', { id: `note-hint-${s.id}`, class: 'note-hint', hidden: true }, t('conv.noteHint'))
    const sendButton = h('button', { type: 'submit', class: 'primary' }, t('conv.send'))
    const error = h('p', { class: 'error', role: 'alert' })
    const files = createAttachments(s.id, (message) => (error.textContent = message))
    const typed = typingSender(s.id)
    // a closed chat takes no reply, but still takes notes
    const noteMode = noteSwitch((on) => {
      draft.note = on
      text.classList.toggle('note', on)
      noteHint.hidden = !on
      text.disabled = s.status === 'closed' && !on
      sendButton.disabled = text.disabled
      sendButton.textContent = on ? t('conv.addNote') : t('conv.send')
      text.placeholder = on ? t('conv.notePlaceholder') : s.status === 'open' ? t('conv.replyPlaceholder') : t('conv.closedPlaceholder')
      // a note carries no files: attaching is for replies
      files.button.hidden = on
    })
    noteMode.el.dataset.focus = 'note'
    noteMode.set(draft.note)
    const canned = attachCanned(text, () => ({ siteId: s.siteId, values: { 'visitor.name': s.name, 'agent.name': me.name } }))
    // a reply that failed keeps its id, so sending it again cannot store it twice
    let unsent: { key: string; clientMessageId: string } | undefined
    const send = async () => {
      const value = text.value
      if (noteMode.on()) return value.trim() ? addNote(value) : undefined
      const attachments = files.ids
      if (files.uploading) return void (error.textContent = t('conv.stillUploading'))
      if (!value.trim() && !attachments.length) return
      const key = JSON.stringify([value, attachments])
      const clientMessageId = unsent?.key === key ? unsent.clientMessageId : crypto.randomUUID()
      text.value = draft.text = ''
      error.textContent = ''
      try {
        const body = { text: value, clientMessageId, ...(attachments.length ? { attachments } : {}) }
        const r = await api<{ message: Message }>(`/api/chat/sessions/${s.id}/messages`, { method: 'POST', body })
        unsent = undefined
        files.clear()
        noteMessage(r.message)
      } catch (err) {
        unsent = { key, clientMessageId }
        text.value = draft.text = value
        error.textContent = err instanceof ApiError ? err.message : t('conv.notSent')
      }
    }
    const addNote = async (value: string) => {
      text.value = draft.text = ''
      error.textContent = ''
      try {
        addNotes(s.id, [(await api<{ note: Note }>(`/api/chat/sessions/${s.id}/notes`, { method: 'POST', body: { text: value } })).note])
      } catch (err) {
        text.value = draft.text = value
        error.textContent = err instanceof ApiError ? err.message : t('conv.notSent')
      }
    }
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault()
        void send()
      }
    })
    // the visitor sees "typing…" only for a reply, never for a private note
    text.addEventListener('input', () => { if (!noteMode.on()) typed() })
    text.addEventListener('paste', (e) => {
      const pasted = [...(e.clipboardData?.files ?? [])]
      if (!pasted.length || s.status === 'closed' || noteMode.on()) return
      e.preventDefault()
      files.add(pasted)
    })
    const detail = (label: string, value: Node | string | null) => value ? [h('dt', {}, label), h('dd', {}, value)] : []
    convEl.replaceChildren(
      h('header', { class: 'conv-head' },
        h('a', { href: '#/inbox', class: 'back', 'aria-label': t('conv.back') }, '‹'),
        h('div', { class: 'who' }, h('h2', {}, displayName(s)), h('span', { class: `pill ${s.status}` }, t(`status.${s.status}`))),
        assignControls(s, me, updateSession),
        s.status === 'open'
          ? h('button', { type: 'button', class: 'ghost', onclick: () => void api<{ session: Session }>(`/api/chat/sessions/${s.id}/close`, { method: 'POST' }).then((r) => updateSession(r.session)) }, t('conv.close'))
          : null,
        isAdmin ? sessionActions(s, (message) => (error.textContent = message)) : null),
      h('div', { class: 'conv-body' },
        h('div', { class: 'log-pane' }, log, typing.el),
        h('aside', { class: 'details', 'aria-label': t('conv.details') }, h('dl', {},
          ...detail(t('field.name'), s.name),
          ...detail(t('field.phone'), s.phone ? h('a', { href: `tel:${s.phone.replace(/[^0-9+]/g, '')}` }, s.phone) : null),
          ...detail(t('field.email'), s.email ? h('a', { href: `mailto:${s.email}` }, s.email) : null),
          ...detail(t('conv.page'), s.pageUrl ? linkified(s.pageUrl) : null),
          ...detail(t('language'), s.locale ? languageName(s.locale) : null),
          ...detail(t('conv.started'), dateTime(s.createdAt)),
          ...detail(t('conv.closedAt'), s.closedAt ? dateTime(s.closedAt) : null),
          ...detail(t('rating.label'), ratingDetail(s.rating))),
        h('section', { class: 'details-labels', 'aria-label': t('conv.labels') }, h('h3', {}, t('conv.labels')), labelsEditor(s, updateSession)))),
      h('form', { class: `reply${draft.note ? ' noting' : ''}`, onsubmit: (e: Event) => { e.preventDefault(); void send() } },
        h('div', { class: 'reply-tools' }, noteMode.el, h('span', { class: 'muted' }, t('conv.cannedHint'))), files.list, canned, text,
        s.status === 'open' ? [files.input, files.button] : null,
        sendButton, noteHint, error))
    log.scrollTop = log.scrollHeight
    if (focused) convEl.querySelector<HTMLElement>(`[data-focus="${focused}"]`)?.focus()
    // files dropped anywhere on the conversation go with the reply
    convEl.ondragover = s.status === 'open' ? (e) => e.preventDefault() : null
    convEl.ondrop = s.status === 'open' ? (e) => {
      e.preventDefault()
      if (!noteMode.on()) files.add([...(e.dataTransfer?.files ?? [])])
    } : null
  }

  async function openConversation(id: string | null): Promise<void> {
    if (id !== selectedId) Object.assign(draft, { text: '', note: false })
    selectedId = id
    renderList()
    if (!id) {
      current = undefined
      return renderConversation()
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
      current = undefined
      selectedId = null
      convEl.replaceChildren(h('div', { class: 'placeholder' }, h('p', { role: 'status' }, t('privacy.erasedHere'))))
      root.classList.remove('has-conversation')
      if (location.hash !== '#/inbox') history.replaceState(null, '', '#/inbox')
    }
    void countUnread()
  }

  const filtered = () => Boolean(filters.search || filters.unread || filters.from || filters.to || filters.rating || filters.label || filters.assigned !== 'all')
  const firstPageUnfiltered = () => filters.page === 1 && !filtered() && filters.status !== 'closed'

  // "2 min" ages while the list stays on screen
  const clock = setInterval(renderList, AGE_REFRESH_MS)

  return {
    el: root,
    dispose: () => {
      clearInterval(clock)
      unwatchLabels()
    },
    load: loadList,
    open: (id: string | null) => openConversation(id).catch(() => navigate(null)),
    /** REST catch-up when the socket was down or has just come back */
    async refetch(): Promise<void> {
      await loadList()
      if (current) {
        const fresh = await api<Conversation>(`/api/chat/sessions/${current.session.id}`)
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
