export type Message = {
  id: string
  sessionId: string
  seq: number
  sender: 'visitor' | 'agent' | 'bot' | 'system'
  senderName: string | null
  text: string
  clientMessageId?: string | null
  createdAt: string
}

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
  launcher: HTMLButtonElement
  setUnread: (count: number) => void
  setOpen: (open: boolean) => void
  listeners: ((m: Message) => void)[]
}

export type UI = { open: () => void; close: () => void }
