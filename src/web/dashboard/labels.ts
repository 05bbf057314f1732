import { LABEL_PATTERN } from '../../chat/label-pattern.js'
import { h } from '../shared/dom.js'
import { api, ApiError, type Session } from './api.js'
import { t } from './i18n.js'

// the server's rule, checked here so a person reads what to write, not the schema's pattern
const LABEL_RE = new RegExp(LABEL_PATTERN, 'u')
/** most used labels offered as one-click buttons under the text box */
const SUGGESTED = 5

let inUse: Promise<string[]> | undefined
const watchers = new Set<(names: string[]) => void>()

/** Labels already on conversations (suggestions and the list filter); `fresh` reads them again and tells the watchers. */
export const labelsInUse = (fresh = false): Promise<string[]> => {
  if (fresh || !inUse) {
    inUse = api<{ labels: { name: string }[] }>('/api/chat/labels').then((r) => {
      const names = r.labels.map((l) => l.name)
      for (const fn of watchers) fn(names)
      return names
    }, (err: unknown) => {
      inUse = undefined
      throw err
    })
  }
  return inUse
}

/** Calls `fn` with the labels in use now and whenever they are read again; returns the unsubscribe. */
export function watchLabelsInUse(fn: (names: string[]) => void): () => void {
  watchers.add(fn)
  void labelsInUse().then(fn, () => {})
  return () => watchers.delete(fn)
}

/** Small chips for the session list. */
export const labelChips = (labels: string[]): HTMLElement | null =>
  labels.length ? h('span', { class: 'chips' }, labels.map((l) => h('span', { class: 'chip small' }, l))) : null

/**
 * The conversation's labels: a "Labels" text box (Enter adds), each label a button "Remove
 * label <name>", and the most used labels not on it as buttons "Add label <name>". The
 * suggestions are not a datalist: that would make the text box a combobox (API.md: a text box).
 */
export function labelsEditor(s: Session, update: (s: Session) => void): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' })
  const inputId = `labels-${s.id}-input`
  const suggestions = h('div', { class: 'chips' })
  const save = (labels: string[], refocus: () => void) => {
    error.textContent = ''
    void api<{ session: Session }>(`/api/chat/sessions/${s.id}/labels`, { method: 'PUT', body: { labels } }).then((r) => {
      void labelsInUse(true).catch(() => {})
      update(r.session)
      refocus()
    }, (err: unknown) => (error.textContent = err instanceof ApiError ? err.message : t('error.generic')))
  }
  const focusInput = () => document.getElementById(inputId)?.focus()
  const input: HTMLInputElement = h('input', {
    id: inputId, type: 'text', maxlength: 32, autocomplete: 'off', 'data-focus': 'labels',
    'aria-label': t('conv.labels'), placeholder: t('conv.labelsPlaceholder'),
    onkeydown: (e: Event) => {
      const k = e as KeyboardEvent
      if (k.key !== 'Enter' || k.isComposing) return
      k.preventDefault()
      const label = input.value.trim().toLowerCase()
      if (!label) return
      if (!LABEL_RE.test(label)) {
        error.textContent = t('conv.labelRule')
        return
      }
      if (s.labels.includes(label)) {
        input.value = ''
        return
      }
      save([...s.labels, label], focusInput)
    },
  })
  void labelsInUse().then((names) => suggestions.replaceChildren(...names.filter((n) => !s.labels.includes(n)).slice(0, SUGGESTED).map((n) => h('button', {
    type: 'button', class: 'chip suggested', 'aria-label': t('conv.addLabel', { name: n }),
    onclick: () => save([...s.labels, n], focusInput),
  }, h('span', { 'aria-hidden': 'true' }, '+ '), n))), () => {})
  const chips = s.labels.map((label) => h('button', {
    type: 'button', class: 'chip', 'aria-label': t('conv.removeLabel', { name: label }),
    onclick: () => save(s.labels.filter((l) => l !== label), focusInput),
  }, label, h('span', { 'aria-hidden': 'true' }, ' ×')))
  return h('div', { class: 'labels' }, h('div', { class: 'chips' }, chips), input, suggestions, error)
}
