import { h } from '../shared/dom.js'
import { api, type Canned } from './api.js'
import { plural, t } from './i18n.js'

const MAX_OPTIONS = 8
/** "/" at the start or after a space, then the shortcut typed so far, right before the caret. */
const TRIGGER = /(?:^|\s)\/([a-z0-9_-]*)$/

const bySite = new Map<string, Promise<Canned[]>>()
/** The shared canned responses and the site's, read once per site and page load. */
const cannedFor = (siteId: string) => {
  let list = bySite.get(siteId)
  if (!list) {
    list = api<{ canned: Canned[] }>(`/api/chat/canned?siteId=${encodeURIComponent(siteId)}`).then((r) => r.canned, (err: unknown) => {
      bySite.delete(siteId)
      throw err
    })
    bySite.set(siteId, list)
  }
  return list
}

/** After the Canned responses page changed them. */
export const forgetCanned = () => bySite.clear()

/** `{{visitor.name}}`, `{{agent.name}}` filled in; an unknown or empty one becomes empty text. */
export function fillPlaceholders(text: string, values: Record<string, string | null | undefined>): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => values[name] ?? '')
}

let nextId = 0

/**
 * Canned responses in the reply box: "/" and letters open a listbox of the matching
 * shortcuts under it. Arrow keys choose, Enter or Tab inserts (the text, placeholders filled
 * in, replaces "/letters"), Escape closes; clicking an option inserts it too. Attach before
 * the box's own Enter handler: while the list is open, Enter belongs to it.
 */
export function attachCanned(box: HTMLTextAreaElement, context: () => { siteId: string; values: Record<string, string | null> }): HTMLElement {
  const id = `canned-${++nextId}`
  const list = h('ul', { id, role: 'listbox', class: 'canned-list', 'aria-label': t('nav.canned'), hidden: true })
  const status = h('p', { class: 'visually-hidden', role: 'status' })
  let matches: Canned[] = []
  let active = 0
  let query: { start: number; end: number } | undefined

  box.setAttribute('aria-autocomplete', 'list')
  box.setAttribute('aria-controls', id)

  const close = () => {
    list.hidden = true
    matches = []
    query = undefined
    box.removeAttribute('aria-activedescendant')
    status.textContent = ''
  }

  const render = () => {
    list.replaceChildren(...matches.map((c, i) => h('li', {
      id: `${id}-${i}`, role: 'option', 'aria-selected': String(i === active), class: i === active ? 'active' : undefined,
      onmousedown: (e: Event) => {
        // keep the focus in the box
        e.preventDefault()
        insert(c)
      },
    }, h('strong', {}, `/${c.shortcut}`), h('span', { class: 'muted' }, ` ${c.text.slice(0, 80)}`))))
    list.hidden = matches.length === 0
    if (matches.length) box.setAttribute('aria-activedescendant', `${id}-${active}`)
    else box.removeAttribute('aria-activedescendant')
  }

  const insert = (c: Canned) => {
    if (!query) return
    const { values } = context()
    const text = fillPlaceholders(c.text, values)
    box.value = box.value.slice(0, query.start) + text + box.value.slice(query.end)
    const caret = query.start + text.length
    box.setSelectionRange(caret, caret)
    close()
    box.dispatchEvent(new Event('input'))
  }

  const update = async () => {
    const caret = box.selectionStart
    const before = box.value.slice(0, caret)
    const m = TRIGGER.exec(before)
    if (!m || box.selectionEnd !== caret) return close()
    const typed = m[1] ?? ''
    const at = { start: caret - typed.length - 1, end: caret }
    const all = await cannedFor(context().siteId).catch(() => [] as Canned[])
    // the box may have changed while the list was read
    if (box.value.slice(0, box.selectionStart) !== before) return
    query = at
    matches = all.filter((c) => c.shortcut.startsWith(typed)).slice(0, MAX_OPTIONS)
    active = Math.min(active, Math.max(0, matches.length - 1))
    render()
    status.textContent = matches.length ? plural('conv.cannedCount', matches.length) : ''
  }

  box.addEventListener('input', () => {
    active = 0
    void update()
  })
  box.addEventListener('blur', close)
  box.addEventListener('keydown', (e) => {
    if (list.hidden || matches.length === 0) return
    const choose = (i: number) => {
      e.preventDefault()
      active = (i + matches.length) % matches.length
      render()
    }
    if (e.key === 'ArrowDown') choose(active + 1)
    else if (e.key === 'ArrowUp') choose(active - 1)
    else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      e.stopImmediatePropagation()
      const c = matches[active]
      if (c) insert(c)
    } else if (e.key === 'Escape') {
      e.preventDefault()
      e.stopImmediatePropagation()
      close()
    }
  })
  return h('div', { class: 'canned' }, list, status)
}
