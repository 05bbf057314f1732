/** The chat panel's icons. */
import { h } from '../shared/dom.js'

export const SEND_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6 3.3 10l12.6 2-12.6 2z"/></svg>'
export const CLOSE_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6 6 18"/></svg>'
export const AGENT_ICON = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" d="M12 2a7 7 0 0 0-7 7v3a3 3 0 0 0 3 3h1v-6H7a5 5 0 0 1 10 0h-2v6h2v1a2 2 0 0 1-2 2h-2v2h2a4 4 0 0 0 4-4v-1.2A3 3 0 0 0 19 12V9a7 7 0 0 0-7-7Z"/></svg>'
export const CLIP_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="m20 11-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7"/></svg>'

export function icon(markup: string): HTMLSpanElement {
  const span = h('span', { class: 'ico' })
  span.innerHTML = markup // constant icon markup of ours, never message content
  return span
}
