import { h } from '../shared/dom.js'
import { dayAfter } from './format.js'
import { t } from './i18n.js'
import { watchLabelsInUse } from './labels.js'

const SEARCH_DEBOUNCE_MS = 300

type Assigned = 'all' | 'me' | 'none'
export type Filters = { status: 'all' | 'open' | 'closed'; rating: string; search: string; unread: boolean; from: string; to: string; page: number; assigned: Assigned; label: string }

export const noFilters = (): Filters => ({ status: 'all', rating: '', search: '', unread: false, from: '', to: '', page: 1, assigned: 'all', label: '' })

/** Whether anything narrows the list (the status tabs aside): an empty list then says "no match", not "no chats". */
export const filtered = (filters: Filters) => Boolean(filters.search || filters.unread || filters.from || filters.to || filters.rating || filters.label || filters.assigned !== 'all')

/** The session list's query string for these filters and page. */
export function listQuery(filters: Filters, pageSize: number): URLSearchParams {
  const q = new URLSearchParams({ status: filters.status, page: String(filters.page), limit: String(pageSize) })
  if (filters.search) q.set('search', filters.search)
  if (filters.unread) q.set('unread', 'true')
  if (filters.rating === 'rated' || filters.rating === 'unrated') q.set('rated', String(filters.rating === 'rated'))
  else if (filters.rating) q.set('rating', filters.rating)
  if (filters.from) q.set('from', filters.from)
  if (filters.to) q.set('to', dayAfter(filters.to))
  if (filters.assigned !== 'all') q.set('assignedTo', filters.assigned)
  if (filters.label) q.set('label', filters.label)
  return q
}

/** The controls above the session list; each writes into `filters` and calls `change`. */
export function filterBar(filters: Filters, change: () => void): { el: HTMLElement; dispose: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined
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
  const dispose = watchLabelsInUse(fillLabels)
  const el = h('div', { class: 'filters' }, search,
    h('div', { class: 'filter-row' }, h('fieldset', { class: 'segmented' }, h('legend', { class: 'visually-hidden' }, t('inbox.assignment')), assigned), label),
    h('div', { class: 'filter-row' }, status, rating, h('label', { class: 'check' }, unread, t('inbox.unreadOnly'))),
    h('div', { class: 'filter-row dates' }, from, h('span', { 'aria-hidden': 'true' }, '–'), to))
  return { el, dispose }
}
