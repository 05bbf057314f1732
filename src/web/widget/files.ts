/** Attachments in the conversation: previews for images, links with name and size for the rest, and uploads in progress. */
import { h } from '../shared/dom.js'
import type { ChatApiError, Message } from '../../../packages/client/src/index.js'
import type { Strings } from './i18n.js'

const IMAGE = /^image\/(png|jpeg|gif|webp)$/

export function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The files of a message; nothing of a file's name reaches the DOM but as text. */
export function attachmentList(files: Message['attachments'] | undefined): HTMLElement | null {
  if (!files?.length) return null
  return h('div', { class: 'files' }, files.map((f) => IMAGE.test(f.contentType) && f.url
    ? h('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer', class: 'preview' }, h('img', { src: f.url, alt: f.name, loading: 'lazy' }))
    : h('a', { href: f.url ?? '#', download: f.name, class: 'file' }, h('span', { class: 'fname' }, f.name), h('span', { class: 'fsize' }, sizeOf(f.size)))))
}

/** A bubble for a file on its way: name, progress, and a cancel button. */
export function uploadBubble(t: Strings, file: File, cancel: () => void) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': file.name })
  const status = h('div', { class: 'meta' }, h('button', { type: 'button', class: 'retry', onclick: cancel }, t.cancelUpload))
  const el = h('div', { class: 'msg out pending' }, h('div', { class: 'bubble file' }, h('span', { class: 'fname' }, file.name), h('span', { class: 'fsize' }, sizeOf(file.size)), bar), status)
  return {
    el,
    progress: (loaded: number, total: number) => void (bar.value = total ? Math.round((loaded / total) * 100) : 0),
    failed(err: ChatApiError | Error) {
      el.classList.add('failed')
      const code = (err as ChatApiError).code
      status.textContent = code === 'PAYLOAD_TOO_LARGE' ? t.tooLarge : code === 'UNSUPPORTED_MEDIA_TYPE' ? t.badType : t.uploadFailed
    },
  }
}
