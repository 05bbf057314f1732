import { storageFor } from '../../../packages/client/src/storage.js'

/** The widget's own keys beside the SDK's (chatSessionId, chatUserSessionId, chatSessionToken). */
export const KEYS = {
  lastReadSeq: 'chatLastReadSeq',
  contactFor: 'chatContactSessionId',
  emailFor: 'chatEmailSessionId',
  unsent: 'chatUnsentMessages',
} as const

type Key = (typeof KEYS)[keyof typeof KEYS]

// the SDK's store: localStorage, or memory where storage throws (blocked cookies, sandboxed frames),
// so the chat then lasts one page view
const store = storageFor('local')

export const load = (key: Key): string | null => store.getItem(key)
export const save = (key: Key, value: string): void => store.setItem(key, value)

/**
 * Messages sent but not yet stored, as [clientMessageId, text]: a page reloaded (or a tab closed) while
 * the server could not be reached sends them again on the next load, and their ids keep them single.
 */
export const unsent = {
  all(): [string, string][] {
    try {
      const list: unknown = JSON.parse(load(KEYS.unsent) ?? '[]')
      return Array.isArray(list) ? list.filter((m): m is [string, string] => Array.isArray(m) && typeof m[0] === 'string' && typeof m[1] === 'string') : []
    } catch {
      return []
    }
  },
  add(clientMessageId: string, text: string): void {
    save(KEYS.unsent, JSON.stringify([...unsent.all(), [clientMessageId, text]]))
  },
  remove(clientMessageId: string): void {
    const all = unsent.all()
    const left = all.filter(([id]) => id !== clientMessageId)
    if (left.length !== all.length) save(KEYS.unsent, JSON.stringify(left))
  },
}
