/**
 * The current dashboard language and the lookup of its words (the words: texts.ts).
 * - Dates, times and numbers: the helpers in format.ts (Intl in the current locale).
 * - A screen rebuilt on `onLocaleChange` picks the new language up; no string is cached.
 */
import { h } from '../shared/dom.js'
import { TEXTS } from './texts.js'

export const LOCALES = ['en', 'uk', 'ru'] as const
export type Locale = (typeof LOCALES)[number]
/** Each language's own name: never translated, so anyone finds their language. */
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', uk: 'Українська', ru: 'Русский' }

type Key = keyof typeof TEXTS
export type TextKey = { [K in Key]: (typeof TEXTS)[K][0] extends string ? K : never }[Key]
export type PluralKey = Exclude<Key, TextKey>
type Vars = Record<string, string | number>

const STORAGE_KEY = 'chatAdminLocale'
const isLocale = (v: unknown): v is Locale => LOCALES.includes(v as Locale)

/** The remembered choice, else the first of the browser's languages we speak, else English. */
function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (isLocale(saved)) return saved
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = tag.split('-')[0]?.toLowerCase()
    if (isLocale(primary)) return primary
  }
  return 'en'
}

let current: Locale = initialLocale()
document.documentElement.lang = current
const listeners = new Set<() => void>()

export const locale = (): Locale => current

export function setLocale(next: Locale): void {
  if (next === current) return
  current = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next
  for (const fn of listeners) fn()
}

/** Calls `fn` after each language change; returns the unsubscribe. */
export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

const fill = (text: string, vars: Vars) => filled(text, vars, String).join('')

/** `text` with each `{name}` variable replaced by `asPiece(value)`; numbers are written in the current locale first. */
function filled<P>(text: string, vars: Record<string, string | number | Node>, asPiece: (value: string | Node) => P): (string | P)[] {
  return text.split(/(\{\w+\})/).map((piece, i) => {
    const v = i % 2 ? vars[piece.slice(1, -1)] : undefined
    if (v === undefined) return piece
    return asPiece(typeof v === 'number' ? new Intl.NumberFormat(current).format(v) : v)
  }).filter((piece) => piece !== '')
}

/** The text under `key` in the current language, with `{name}` variables filled in. */
export function t(key: TextKey, vars: Vars = {}): string {
  return fill(TEXTS[key][LOCALES.indexOf(current)] as string, vars)
}

/**
 * `t` as nodes, each variable in its own `<bdi>`: a name, address or file name written right-to-left
 * (or holding a U+202E override) keeps its direction to itself and cannot reorder the words around it.
 */
export function tIsolated(key: TextKey, vars: Record<string, string | number | Node>): Node[] {
  return filled(TEXTS[key][LOCALES.indexOf(current)] as string, vars, (v) => (typeof v === 'string' ? h('bdi', {}, v) : v))
    .map((piece) => (typeof piece === 'string' ? document.createTextNode(piece) : piece))
}

/** Person-provided text for a place that holds text only (an option, a dialog, an error line): isolated by FSI…PDI, as `<bdi>` would. */
export const isolated = (text: string) => `\u2068${text}\u2069`

/** The form of `key` for `n` in the current language (Intl.PluralRules), with `{n}` and other variables filled in. */
export function plural(key: PluralKey, n: number, vars: Vars = {}): string {
  const forms = TEXTS[key][LOCALES.indexOf(current)] as Partial<Record<Intl.LDMLPluralRule, string>> & { other: string }
  return fill(forms[new Intl.PluralRules(current).select(n)] ?? forms.other, { ...vars, n })
}

/** The "Language" select: each option in its own language, the choice remembered. */
export function languageSelect(): HTMLSelectElement {
  const select: HTMLSelectElement = h('select', { class: 'language', 'aria-label': t('language'), onchange: () => setLocale(select.value as Locale) },
    LOCALES.map((l) => h('option', { value: l, lang: l, selected: l === current }, LANGUAGE_NAMES[l])))
  return select
}
