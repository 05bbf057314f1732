/** What a closed chat offers: a rating (1–5 stars and a comment) and, when the session has an email, the transcript. */
import { h } from '../shared/dom.js'
import type { ChatApiError, ChatClient } from '../../../packages/client/src/index.js'
import type { Strings } from './i18n.js'

const STAR = '★'

/** The answer that replaces a control; it takes the focus the control had, so the keyboard stays in the panel. */
export const said = (text: string) => h('p', { role: 'status', tabindex: -1 }, text)

export function afterChat(t: Strings, client: ChatClient, hasEmail: () => boolean): HTMLElement {
  let score = 0
  const stars = t.stars.map((label, i) => h('button', {
    type: 'button', class: 'star', 'aria-label': label, 'aria-pressed': 'false',
    onclick: () => {
      score = i + 1
      stars.forEach((b, j) => b.setAttribute('aria-pressed', String(j < score)))
      submit.disabled = false
    },
  }, STAR))
  const comment = h('textarea', { rows: 2, maxlength: 1000, 'aria-label': t.comment, placeholder: t.comment })
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, t.sendRating)
  // a failure is said where it happened, and cleared by the next attempt
  const rateError = h('p', { class: 'error', role: 'alert' })
  const transcriptError = h('p', { class: 'error', role: 'alert' })
  const titleId = 'chat-rate-title'
  const form: HTMLFormElement = h('form', {
    class: 'rate', role: 'group', 'aria-labelledby': titleId,
    onsubmit: (e: Event) => {
      e.preventDefault()
      if (!score) return
      submit.disabled = true
      rateError.textContent = ''
      client.rate(score, comment.value.trim() || undefined).then(thank, (err: ChatApiError) => {
        // 409: rated already (another tab): that rating stands
        if (err.status === 409) return thank()
        submit.disabled = false
        rateError.textContent = t.rateFailed
      })
    },
  }, h('p', { id: titleId, class: 'rate-title' }, t.rate), h('div', { class: 'stars' }, stars), comment, submit, rateError)
  const thank = () => {
    const thanks = said(t.rated)
    form.replaceChildren(thanks)
    thanks.focus()
  }

  const transcript = h('button', {
    type: 'button', class: 'link',
    onclick: () => {
      transcriptError.textContent = ''
      void client.transcript().then(() => {
        transcriptError.remove()
        const sent = said(t.transcriptSent)
        transcript.replaceWith(sent)
        sent.focus()
      }, () => void (transcriptError.textContent = t.transcriptFailed))
    },
  }, t.transcript)
  return h('div', { class: 'after' }, form, hasEmail() ? [transcript, transcriptError] : null)
}
