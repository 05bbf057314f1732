import { validationError } from '../chat/errors.js'

const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/**
 * A time in a query string: ISO 8601 (no zone means UTC; a `+` that arrived unencoded as a
 * space is put back) or epoch milliseconds. Empty means not given.
 */
export function parseTimeParam(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined
  let s = raw.trim().replace(/ (\d{2}(?::?\d{2})?)$/, '+$1')
  let ms: number
  if (/^\d{10,16}$/.test(s)) {
    ms = Number(s)
  } else if (ISO_RE.test(s)) {
    s = s.replace(' ', 'T').replace(',', '.')
    if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(s)) s += 'Z'
    ms = Date.parse(s)
  } else {
    ms = NaN
  }
  if (Number.isNaN(ms)) {
    throw validationError(`${name} must be an ISO 8601 time such as 2026-11-24T10:15:30.123Z`, [{ field: name, location: 'querystring', message: 'invalid time' }])
  }
  return new Date(ms)
}
