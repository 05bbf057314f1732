import { h } from '../shared/dom.js'
import { api, ApiError, type Message, type Note, type Session, type User } from './api.js'
import { createAttachments } from './attach.js'
import { attachCanned } from './canned.js'
import { t } from './i18n.js'
import { noteSwitch } from './notes.js'
import { typingSender } from './typing.js'

/** The reply box's text and mode, owned by the inbox so they outlive one conversation render. */
export type Draft = { text: string; note: boolean }

export type Sent = { message: (m: Message) => void; note: (n: Note) => void }

/**
 * The form under a conversation: a reply (with files and canned answers) or a private note.
 * `error` is shared with the conversation's header actions; `drop` takes files dropped on the conversation.
 */
export function replyForm(s: Session, me: User, draft: Draft, sent: Sent): { el: HTMLElement; error: HTMLElement; drop: (files: File[]) => void } {
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
      sent.message(r.message)
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
      sent.note((await api<{ note: Note }>(`/api/chat/sessions/${s.id}/notes`, { method: 'POST', body: { text: value } })).note)
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
  const el = h('form', { class: `reply${draft.note ? ' noting' : ''}`, onsubmit: (e: Event) => { e.preventDefault(); void send() } },
    h('div', { class: 'reply-tools' }, noteMode.el, h('span', { class: 'muted' }, t('conv.cannedHint'))), files.list, canned, text,
    s.status === 'open' ? [files.input, files.button] : null,
    sendButton, noteHint, error)
  return { el, error, drop: (dropped) => { if (!noteMode.on()) files.add(dropped) } }
}
