import { h } from '../shared/dom.js'
import { auth, type Attachment } from './api.js'
import { fileSize } from './format.js'
import { isolated, t } from './i18n.js'

// as the API: at most this many files go with one message
const MAX_FILES = 5

type Pending = { name: string; el: HTMLElement; xhr?: XMLHttpRequest; attachment?: Attachment }
type UploadAnswer = { data?: { attachment: Attachment }; error?: { message: string } } | null

/**
 * The files going with the next reply: the attach button, dropped files and pasted images.
 * Each uploads at once (XMLHttpRequest, for its progress), can be cancelled or removed, and
 * the reply is sent with the ids of those that finished.
 */
export function createAttachments(sessionId: string, onError: (text: string) => void) {
  const pending: Pending[] = []
  const list = h('ul', { class: 'pending-files', 'aria-label': t('conv.files'), hidden: true })
  const input = h('input', { type: 'file', multiple: true, hidden: true, tabindex: -1, 'aria-hidden': 'true' })
  input.addEventListener('change', () => {
    add([...(input.files ?? [])])
    input.value = ''
  })
  const button = h('button', { type: 'button', class: 'ghost attach', title: t('conv.attach'), onclick: () => input.click() }, t('conv.attach'))

  const changed = () => (list.hidden = pending.length === 0)
  function drop(entry: Pending): void {
    const i = pending.indexOf(entry)
    if (i >= 0) pending.splice(i, 1)
    entry.el.remove()
    changed()
  }

  function upload(file: File): void {
    const name = file.name || 'file'
    const entry: Pending = { name, el: h('li', {}) }
    const progress = h('progress', { max: 100, value: 0, 'aria-label': t('conv.uploading', { name }) })
    const remove = h('button', { type: 'button', class: 'ghost icon', 'aria-label': t('conv.cancelUpload', { name }), onclick: () => {
      entry.xhr?.abort()
      drop(entry)
    } }, '×')
    entry.el.append(h('span', { class: 'file-name' }, h('bdi', {}, name), ` · ${fileSize(file.size)}`), progress, remove)
    const xhr = new XMLHttpRequest()
    entry.xhr = xhr
    xhr.open('POST', `/api/chat/sessions/${sessionId}/attachments`)
    if (auth.token) xhr.setRequestHeader('authorization', `Bearer ${auth.token}`)
    xhr.responseType = 'json'
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100)
    }
    const failed = (reason: string) => {
      drop(entry)
      onError(t('conv.uploadFailed', { name: isolated(name), reason }))
    }
    xhr.onload = () => {
      entry.xhr = undefined
      const answer = xhr.response as UploadAnswer
      if (xhr.status !== 201 || !answer?.data) return failed(answer?.error?.message ?? String(xhr.status))
      entry.attachment = answer.data.attachment
      progress.remove()
      remove.setAttribute('aria-label', t('conv.removeFile', { name }))
    }
    xhr.onerror = () => failed(t('error.network'))
    const form = new FormData()
    form.append('file', file, name)
    xhr.send(form)
    pending.push(entry)
    list.append(entry.el)
    changed()
  }

  function add(files: File[]): void {
    for (const file of files) {
      if (pending.length >= MAX_FILES) return onError(t('conv.tooManyFiles', { n: MAX_FILES }))
      upload(file)
    }
  }

  return {
    button,
    input,
    list,
    add,
    /** whether an upload is still under way */
    get uploading(): boolean {
      return pending.some((p) => !p.attachment)
    },
    /** the ids of the uploaded files, for the message */
    get ids(): string[] {
      return pending.flatMap((p) => (p.attachment ? [p.attachment.id] : []))
    },
    clear(): void {
      for (const p of [...pending]) drop(p)
    },
  }
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/** A message's files: images as previews that open in full, other files as links with name and size. */
export function attachmentsEl(files: Attachment[]): HTMLElement | null {
  if (!files.length) return null
  return h('ul', { class: 'files' }, files.map((f) => h('li', {}, IMAGE_TYPES.has(f.contentType)
    ? h('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer' }, h('img', { src: f.url, alt: f.name, loading: 'lazy' }))
    : h('a', { href: f.url, download: f.name }, h('bdi', {}, f.name), ` (${fileSize(f.size)})`))))
}
