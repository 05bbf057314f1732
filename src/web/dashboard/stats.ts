import { h } from '../shared/dom.js'
import { api, type Stats } from './api.js'
import { dayAfter, duration, number, shortDate } from './format.js'
import { plural, t } from './i18n.js'

const SVG = 'http://www.w3.org/2000/svg'

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  if (text !== undefined) el.textContent = text
  return el
}

/** Sessions per day as bars; each bar has a tooltip with its date and count. */
function chart(days: Stats['sessionsPerDay']): SVGElement {
  const width = 640
  const height = 180
  const max = Math.max(1, ...days.map((d) => d.count))
  const step = width / Math.max(1, days.length)
  const root = svg('svg', { viewBox: `0 0 ${width} ${height + 24}`, class: 'chart', role: 'img', 'aria-label': t('stats.perDay') })
  days.forEach((d, i) => {
    const barH = Math.max(d.count ? 3 : 1, (d.count / max) * height)
    const bar = svg('rect', { x: i * step + step * 0.15, y: height - barH, width: step * 0.7, height: barH, rx: 3, class: d.count ? 'bar' : 'bar zero' })
    bar.append(svg('title', {}, plural('stats.dayCount', d.count, { date: shortDate(d.date) })))
    root.append(bar)
  })
  const first = days[0]
  const last = days[days.length - 1]
  if (first) root.append(svg('text', { x: 0, y: height + 18, class: 'axis' }, shortDate(first.date)))
  if (last) root.append(svg('text', { x: width, y: height + 18, class: 'axis', 'text-anchor': 'end' }, shortDate(last.date)))
  return root
}

type Range = { from: string; to: string }

export async function statsView(range: Range = { from: '', to: '' }): Promise<HTMLElement> {
  const q = new URLSearchParams()
  if (range.from) q.set('from', range.from)
  if (range.to) q.set('to', dayAfter(range.to))
  const s = await api<Stats>(`/api/chat/stats?${q}`)
  const tile = (label: string, value: string | number) => h('div', { class: 'tile' }, h('div', { class: 'value' }, typeof value === 'number' ? number(value) : value), h('div', { class: 'label' }, label))
  const page = h('section', { class: 'page' })
  const rerender = async () => page.replaceWith(await statsView({ from: from.value, to: to.value }))
  const from = h('input', { type: 'date', value: range.from, 'aria-label': t('stats.from'), onchange: () => void rerender() })
  const to = h('input', { type: 'date', value: range.to, 'aria-label': t('stats.to'), onchange: () => void rerender() })
  page.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.stats')), h('div', { class: 'filter-row dates' }, from, h('span', { 'aria-hidden': 'true' }, '–'), to)),
    h('div', { class: 'tiles' },
      tile(t('stats.sessions'), s.totalSessions), tile(t('stats.open'), s.openSessions), tile(t('stats.today'), s.sessionsToday),
      tile(t('stats.unanswered'), s.unansweredSessions), tile(t('stats.messages'), s.totalMessages),
      tile(t('stats.firstAvg'), duration(s.avgFirstResponseSeconds)), tile(t('stats.firstMedian'), duration(s.medianFirstResponseSeconds))),
    h('div', { class: 'card' }, h('h2', {}, t('stats.perDay')), chart(s.sessionsPerDay)),
    h('div', { class: 'card' }, h('h2', {}, t('stats.csat')),
      h('div', { class: 'tiles' }, tile(t('stats.csat'), s.csatAverage === null ? '—' : `${number(Math.round(s.csatAverage * 100) / 100)} / 5`), tile(t('stats.csatCount'), s.csatCount)),
      h('table', {}, h('caption', { class: 'visually-hidden' }, t('stats.csatDistribution')),
        h('tbody', {}, ([5, 4, 3, 2, 1] as const).map((n) => h('tr', {}, h('th', { scope: 'row' }, t('inbox.stars', { n })), h('td', {}, number(s.csatDistribution[n]))))))))
  return page
}
