import { h, linkified } from '../shared/dom.js'
import type { Message, Note } from './api.js'
import { time } from './format.js'
import { t } from './i18n.js'

/** A private note in the conversation: its own colour and the words "Private note", so nobody takes it for a reply. */
export function noteEl(n: Note): HTMLElement {
  return h('div', { class: 'msg note', 'data-note': n.id },
    h('div', { class: 'note-tag' }, t('conv.privateNote')),
    h('div', { class: 'bubble' }, linkified(n.text)),
    h('div', { class: 'meta' }, h('bdi', {}, n.author.name), ` · ${time(n.createdAt)}`))
}

export type LogEntry = { kind: 'message'; message: Message } | { kind: 'note'; note: Note }

/** Messages and notes in the order they were written. */
export function timeline(messages: Message[], notes: Note[]): LogEntry[] {
  const entries: LogEntry[] = [...messages.map((message) => ({ kind: 'message' as const, message })), ...notes.map((note) => ({ kind: 'note' as const, note }))]
  const at = (e: LogEntry) => (e.kind === 'message' ? e.message.createdAt : e.note.createdAt)
  return entries.sort((a, b) => at(a).localeCompare(at(b)))
}

/**
 * The "Private note" switch beside the reply box: while on, what is written there is a note
 * for the team (and the box says so); off again, it is a reply to the visitor.
 */
export function noteSwitch(onToggle: (on: boolean) => void): { el: HTMLButtonElement; on: () => boolean; set: (on: boolean) => void } {
  const el: HTMLButtonElement = h('button', {
    type: 'button', role: 'switch', class: 'note-switch', 'aria-checked': 'false',
    onclick: () => set(el.getAttribute('aria-checked') !== 'true'),
  }, t('conv.privateNote'))
  const set = (on: boolean) => {
    el.setAttribute('aria-checked', String(on))
    onToggle(on)
  }
  return { el, on: () => el.getAttribute('aria-checked') === 'true', set }
}
