import type { Message as WireMessage } from '../../../packages/client/src/index.js'

/** A message as the widget shows it; `attachments` is always there once the server sends files. */
export type Message = WireMessage & { attachments?: WireMessage['attachments'] }

export type Locale = 'en' | 'uk' | 'ru'

export type WidgetOptions = {
  apiKey: string
  /** origin of the chat server, from the script's own src */
  origin: string
  title: string | undefined
  color: string
  locale: Locale
  position: 'left' | 'right'
}

/** What the loader hands to the UI chunk. */
export type Host = {
  options: WidgetOptions
  root: ShadowRoot
  /**
   * The loader's colour and stylesheet helpers, lent to the chunk so it does not carry copies:
   * `ink` is the text on the brand colour, `focus` the brand colour where it shows on white.
   */
  ink: string
  focus: string
  adoptCss: (css: string) => void
  launcher: HTMLButtonElement
  setUnread: (count: number) => void
  setOpen: (open: boolean) => void
  listeners: ((m: Message) => void)[]
}

export type UI = { open: () => void; close: () => void }
