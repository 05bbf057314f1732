import { h } from '../shared/dom.js'
import { tIsolated } from './i18n.js'
import { sendFrame } from './live.js'

// the server relays at most one typing event per 2 s per sender; an indicator lasts 5 s without a new one
const SEND_EVERY_MS = 2000
const SHOWN_FOR_MS = 5000

/** "Ann is typing…" under a conversation: shown on each event, gone 5 s after the last or when her message arrives. */
export function typingIndicator() {
  const el = h('p', { class: 'typing', role: 'status' })
  let timer: ReturnType<typeof setTimeout> | undefined
  const hide = () => {
    clearTimeout(timer)
    el.textContent = ''
  }
  return {
    el,
    show(name: string): void {
      el.replaceChildren(...tIsolated('conv.typing', { name }))
      clearTimeout(timer)
      timer = setTimeout(hide, SHOWN_FOR_MS)
    },
    hide,
  }
}

/** Tells the visitor's widget the agent is typing in this session, at most once per 2 s. */
export function typingSender(sessionId: string): () => void {
  let last = 0
  return () => {
    const now = Date.now()
    if (now - last < SEND_EVERY_MS) return
    last = now
    sendFrame({ type: 'typing', sessionId })
  }
}
