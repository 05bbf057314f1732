type Props = Record<string, string | number | boolean | EventListener | undefined>
export type Child = Node | string | false | null | undefined

/**
 * Builds an element. Strings become text nodes, never markup: message text cannot turn
 * into HTML anywhere this is used.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v)
    else if (k === 'class') el.className = String(v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  append(el, children)
  return el
}

export function append(el: Element | DocumentFragment, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === false || c === null || c === undefined) continue
    el.append(typeof c === 'string' ? document.createTextNode(c) : c)
  }
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g

/** Text with http(s) links made clickable; every piece is a text node or a safe anchor. */
export function linkified(text: string): DocumentFragment {
  const frag = document.createDocumentFragment()
  let at = 0
  for (const m of text.matchAll(URL_RE)) {
    const start = m.index ?? 0
    frag.append(text.slice(at, start))
    const a = document.createElement('a')
    a.href = m[0]
    a.textContent = m[0]
    a.target = '_blank'
    a.rel = 'noopener noreferrer nofollow ugc'
    frag.append(a)
    at = start + m[0].length
  }
  frag.append(text.slice(at))
  return frag
}

export const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
