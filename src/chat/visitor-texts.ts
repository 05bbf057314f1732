/**
 * What visitors read outside the widget (emails, the transcript download), in the session's
 * language: Ukrainian, Russian or English (the default for anything else).
 */

export type VisitorLocale = 'en' | 'uk' | 'ru'

const TEXTS = {
  transcriptTitle: ['Conversation with {site}', 'Розмова з {site}', 'Разговор с {site}'],
  started: ['Started {time}', 'Почато {time}', 'Начат {time}'],
  you: ['You', 'Ви', 'Вы'],
  agent: ['Support', 'Підтримка', 'Поддержка'],
  bot: ['Bot', 'Бот', 'Бот'],
  system: ['System', 'Система', 'Система'],
  file: ['File: {name} ({size})', 'Файл: {name} ({size})', 'Файл: {name} ({size})'],
  offlineSubject: ['New reply from {site}', 'Нова відповідь від {site}', 'Новый ответ от {site}'],
  offlineIntro: [
    'You have a reply in your chat with {site}:',
    'Ви отримали відповідь у чаті з {site}:',
    'Вы получили ответ в чате с {site}:',
  ],
  continue: ['Continue the conversation', 'Продовжити розмову', 'Продолжить разговор'],
  linkNote: [
    'The link opens the chat in any browser, once, for {days} days.',
    'Посилання відкриває чат у будь-якому браузері, один раз, протягом {days} дн.',
    'Ссылка открывает чат в любом браузере, один раз, в течение {days} дн.',
  ],
  transcriptSubject: ['Your conversation with {site}', 'Ваша розмова з {site}', 'Ваш разговор с {site}'],
  transcriptIntro: [
    'Here is the conversation you asked for.',
    'Ось розмова, яку ви просили надіслати.',
    'Вот разговор, который вы просили прислать.',
  ],
  why: [
    'You get this email because you left this address in the chat on {site}.',
    'Ви отримали цей лист, бо залишили цю адресу в чаті на {site}.',
    'Вы получили это письмо, потому что оставили этот адрес в чате на {site}.',
  ],
  unsubscribe: ['Stop emails about this conversation', 'Не надсилати листів про цю розмову', 'Не присылать писем об этом разговоре'],
  unsubscribeAsk: ['Stop emails about this conversation?', 'Більше не надсилати листів про цю розмову?', 'Больше не присылать писем об этом разговоре?'],
  unsubscribed: [
    'Done: you will get no more emails about this conversation.',
    'Готово: листів про цю розмову більше не буде.',
    'Готово: писем об этом разговоре больше не будет.',
  ],
} as const satisfies Record<string, readonly [string, string, string]>

export type VisitorTextKey = keyof typeof TEXTS

const ORDER: VisitorLocale[] = ['en', 'uk', 'ru']

/** The session's `locale` ("uk-UA", "ru", ...) as one we write in; English otherwise. */
export function visitorLocale(tag: string | null | undefined): VisitorLocale {
  const primary = tag?.split(/[-_]/)[0]?.toLowerCase()
  return primary === 'uk' || primary === 'ru' ? primary : 'en'
}

export function visitorText(locale: VisitorLocale, key: VisitorTextKey, vars: Record<string, string | number> = {}): string {
  return (TEXTS[key][ORDER.indexOf(locale)] ?? TEXTS[key][0]).replace(/\{(\w+)\}/g, (whole, name: string) => String(vars[name] ?? whole))
}
