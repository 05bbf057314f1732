/** Tab title and favicon show how many chats wait; an optional chime on a new chat. */

import { t } from './i18n.js'

const SOUND_KEY = 'chatAdminSound'

function favicon(count: number): string {
  const badge = count > 0
    ? `<circle cx="23" cy="9" r="9" fill="#e11d48"/><text x="23" y="13" font-size="12" font-family="Arial" font-weight="700" fill="#fff" text-anchor="middle">${count > 9 ? '9+' : count}</text>`
    : ''
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#4f46e5" d="M16 4C9 4 3 8.7 3 14.6c0 3 1.5 5.7 4 7.6L6 28l5.6-2.7c1.4.4 2.9.6 4.4.6 7 0 13-4.7 13-10.6S23 4 16 4Z"/>${badge}</svg>`
  return `data:image/svg+xml,${encodeURIComponent(svg)}`
}

export function showUnreadChats(count: number): void {
  document.title = count > 0 ? `(${count}) ${t('app.title')}` : t('app.title')
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]')
  if (!link) {
    link = document.createElement('link')
    link.rel = 'icon'
    document.head.append(link)
  }
  link.href = favicon(count)
}

export const sound = {
  get on(): boolean {
    return localStorage.getItem(SOUND_KEY) === '1'
  },
  set on(v: boolean) {
    localStorage.setItem(SOUND_KEY, v ? '1' : '0')
  },
}

let audio: AudioContext | undefined

export function chime(): void {
  if (!sound.on) return
  audio ??= new AudioContext()
  const now = audio.currentTime
  for (const [i, freq] of [880, 1318].entries()) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.frequency.value = freq
    gain.gain.setValueAtTime(0.0001, now + i * 0.12)
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.12 + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.3)
    osc.connect(gain).connect(audio.destination)
    osc.start(now + i * 0.12)
    osc.stop(now + i * 0.12 + 0.32)
  }
}
