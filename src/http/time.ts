import { validationError } from '../chat/errors.js'

const CANONICAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i
// Postgres rejects year 0, and JavaScript writes years past 9999 in a form Postgres does not read
const MIN_YEAR = 1
const MAX_YEAR = 9999

const invalidTime = (name: string) =>
  validationError(`${name} must be an ISO 8601 time such as 2026-11-24T10:15:30.123Z`, [{ field: name, location: 'querystring', message: 'invalid time' }])

// a Date interpolated into the URL (`${new Date(...)}`): "Tue Dec 01 2026 15:10:03 GMT+0200 (Eastern European Standard Time)"
const DATE_TO_STRING_RE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+ -]\d{4})(?: \([^()]*\))?$/
// what the seed's `?since=${lastMessageTime}` puts in the URL before the widget holds a message
const UNSET_VALUES = new Set(['', 'undefined', 'null'])

/**
 * A time in a query string: ISO 8601 (no zone means UTC; a `+` that arrived unencoded as a
 * space is put back) or epoch milliseconds. Empty (or JavaScript's interpolated undefined/null) means not given.
 */
export function parseTimeParam(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined || UNSET_VALUES.has(raw)) return undefined
  // what widgets send back (a Date's toISOString): no rewriting needed, and every poll has one
  if (CANONICAL_RE.test(raw)) return checkedTime(calendarDay(raw) ? Date.parse(raw) : NaN, name)
  let s = raw.trim().replace(/ (\d{2}(?::?\d{2})?)$/, '+$1')
  let ms: number
  const dateText = DATE_TO_STRING_RE.exec(s)
  if (dateText) {
    ms = Date.parse(`${dateText[1]} GMT${dateText[2]?.replace(' ', '+')}`)
  } else if (/^(?:0|\d{10,16})$/.test(s)) {
    ms = Number(s)
  } else if (ISO_RE.test(s)) {
    s = s.replace(' ', 'T').replace(',', '.')
    if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(s)) s += 'Z'
    ms = calendarDay(s) ? Date.parse(s) : NaN
  } else {
    ms = NaN
  }
  return checkedTime(ms, name)
}

const DATE_PART_RE = /^(\d{4})-(\d{2})-(\d{2})/

/** Whether the text's YYYY-MM-DD is a day of the calendar: Date.parse rolls 2026-02-30 over to March 2. */
function calendarDay(text: string): boolean {
  const [, year, month, day] = DATE_PART_RE.exec(text) ?? []
  const d = Number(day)
  return d >= 1 && new Date(Date.UTC(Number(year), Number(month) - 1, d)).getUTCDate() === d
}

function checkedTime(ms: number, name: string): Date {
  const time = new Date(ms)
  const year = time.getUTCFullYear()
  if (Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR) throw invalidTime(name)
  return time
}

/** `from` (inclusive) and `to` (exclusive) from a query string; a range that ends before it starts is a 400. */
export function parseTimeRange(q: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const from = parseTimeParam(q.from, 'from')
  const to = parseTimeParam(q.to, 'to')
  if (from && to && from.getTime() > to.getTime()) {
    throw validationError('from must not be later than to', [{ field: 'from', location: 'querystring', message: 'later than to' }])
  }
  return { from, to }
}
