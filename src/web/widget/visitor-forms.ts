/** The forms under the conversation that ask the visitor how to reach them. */
import { h } from '../shared/dom.js'
import type { ChatClient, StartDetails } from '../../../packages/client/src/index.js'
import type { Strings } from './i18n.js'
import { KEYS, load, save } from './storage.js'

/** Name and phone once per session (after the visitor's first message); an email when nobody is online. */
export function visitorForms(t: Strings, client: ChatClient, log: HTMLElement, sessionDetails: () => StartDetails) {
  /** both carry the class 'contact' (their look), so they are held here, not queried */
  const forms: { contact?: HTMLFormElement; email?: HTMLFormElement } = {}

  function askContact(): void {
    const id = client.session?.id
    if (!id || load(KEYS.contactFor) === id || forms.contact) return
    const name = h('input', { name: 'name', autocomplete: 'name', maxlength: 100, 'aria-label': t.name, placeholder: t.name, required: true })
    const phone = h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', maxlength: 32, pattern: '[0-9 +()\\-]*', 'aria-label': t.phone, placeholder: t.phone, required: true })
    const form: HTMLFormElement = h('form', {
      class: 'contact',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void client.start({ name: name.value.trim(), phone: phone.value.trim() }).then(() => {
          save(KEYS.contactFor, id)
          form.replaceChildren(h('p', {}, t.thanks))
        }, () => {})
      },
    }, h('p', {}, t.contactAsk), name, phone, h('button', { type: 'submit', class: 'primary' }, t.save))
    log.append((forms.contact = form))
  }

  const hasEmail = () => !!client.session && load(KEYS.emailFor) === client.session.id

  /** Nobody online: the visitor's email, so the reply can reach them. */
  function askEmail(): void {
    if (hasEmail() || forms.email || client.session?.status === 'closed') return
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, 'aria-label': t.email, placeholder: t.email, required: true })
    const form: HTMLFormElement = h('form', {
      class: 'contact email',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void client.start({ ...sessionDetails(), email: email.value.trim() }).then((s) => {
          save(KEYS.emailFor, s.id)
          form.replaceChildren(h('p', {}, t.emailSaved))
        }, () => {})
      },
    }, h('p', {}, t.emailAsk), email, h('button', { type: 'submit', class: 'primary' }, t.saveEmail))
    log.append((forms.email = form))
  }

  function remove(): void {
    forms.contact?.remove()
    forms.email?.remove()
    forms.contact = forms.email = undefined
  }

  return { askContact, askEmail, hasEmail, remove }
}
