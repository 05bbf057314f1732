/** Names, ages, durations, dates and numbers in the dashboard's current language (Intl). */
import { locale, t } from './i18n.js'

export const displayName = (s: { name: string | null; userSessionId: string }) => s.name || t('inbox.visitor', { id: s.userSessionId.slice(-4).toUpperCase() })

export const number = (n: number) => new Intl.NumberFormat(locale()).format(n)

const inUnit = (value: number, unit: 'second' | 'minute' | 'hour', fractionDigits = 0) =>
  new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: fractionDigits }).format(value)

/** How long ago, short enough for a list row: "now", "5 min", "3 hr", then the date. */
export function ago(iso: string | null): string {
  if (!iso) return ''
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000)
  if (s < 60) return new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' }).format(0, 'second')
  if (s < 3600) return inUnit(Math.floor(s / 60), 'minute')
  if (s < 86400) return inUnit(Math.floor(s / 3600), 'hour')
  return shortDate(iso)
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '—'
  if (seconds < 60) return inUnit(Math.round(seconds), 'second')
  if (seconds < 3600) return inUnit(Math.round(seconds / 60), 'minute')
  return inUnit(seconds / 3600, 'hour', 1)
}

/** A file size in the largest unit that keeps it at 1 or more ("12.3 MB"). */
export function fileSize(bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const
  let value = bytes
  let unit = 0
  for (; value >= 1000 && unit < units.length - 1; unit++) value /= 1000
  return new Intl.NumberFormat(locale(), { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)
}

export const dateTime = (iso: string) => new Date(iso).toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' })

/** "5 Jan" / "5 січ."; a bare `YYYY-MM-DD` is a calendar day, shown as that day whatever the time zone. */
export const shortDate = (isoOrDay: string) =>
  new Date(isoOrDay).toLocaleDateString(locale(), { day: 'numeric', month: 'short', timeZone: /^\d{4}-\d\d-\d\d$/.test(isoOrDay) ? 'UTC' : undefined })

export const time = (iso: string) => new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' })

/** A language tag as words in the current language ("uk" → "Ukrainian"), or the tag itself when Intl does not know it. */
export function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames(locale(), { type: 'language' }).of(tag) ?? tag
  } catch {
    return tag
  }
}

/** A date picker's day is meant inclusively; the API's `to` is exclusive, so it gets the next day. */
export const dayAfter = (day: string) => new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10)
