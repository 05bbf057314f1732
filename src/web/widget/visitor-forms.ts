/** The forms under the conversation that ask the visitor how to reach them. */
import { h } from '../shared/dom.js'
import type { ChatClient, StartDetails } from '../../../packages/client/src/index.js'
import { said } from './after-chat.js'
import type { Strings } from './i18n.js'
import { KEYS, load, save } from './storage.js'

/** Name and phone once per session (after the visitor's first message); an email when nobody is online. */
export function visitorForms(t: Strings, client: ChatClient, log: HTMLElement, sessionDetails: () => StartDetails) {
  /** both carry the class 'contact' (their look), so they are held here, not queried */
  const forms: { contact?: HTMLFormElement; email?: HTMLFormElement } = {}

  /** A form that sends details with the session: a failure (the network, the server) is said in it and cleared by the next try, never dropped. */
  function detailsForm(className: string, ask: string, fields: HTMLInputElement[], submitLabel: string, send: () => Promise<string>): HTMLFormElement {
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel)
    const error = h('p', { class: 'error', role: 'alert', id: `${fields[0]?.name}Error` })
    const form: HTMLFormElement = h('form', {
      class: className,
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault()
        // the browser's own messages would be in the browser's language: the widget says them in its own, under the fields
        const wrong = fields.find((field) => !field.checkValidity())
        for (const field of fields) {
          field.setAttribute('aria-invalid', String(field === wrong))
          field.setAttribute('aria-describedby', error.id)
        }
        error.textContent = wrong ? `${t.checkField}: ${wrong.placeholder}` : ''
        if (wrong) return wrong.focus()
        send().then((thanks) => {
          const hadFocus = form.contains((form.getRootNode() as ShadowRoot | Document).activeElement)
          const done = said(thanks)
          form.replaceChildren(done)
          // the field or button the keyboard was on is gone: the answer takes the focus, inside the panel
          if (hadFocus) done.focus()
        }, () => void (error.textContent = t.detailsFailed))
      },
    }, h('p', {}, ask), fields, submit, error)
    return form
  }

  function askContact(): void {
    const id = client.session?.id
    if (!id || load(KEYS.contactFor) === id || forms.contact) return
    const name = h('input', { name: 'name', autocomplete: 'name', maxlength: 100, 'aria-label': t.name, placeholder: t.name, required: true })
    const phone = h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', maxlength: 32, pattern: '[0-9 +()\\-]*', 'aria-label': t.phone, placeholder: t.phone, required: true })
    log.append((forms.contact = detailsForm('contact', t.contactAsk, [name, phone], t.save, () => client.start({ name: name.value.trim(), phone: phone.value.trim() }).then(() => {
      save(KEYS.contactFor, id)
      return t.thanks
    }))))
  }

  const hasEmail = () => !!client.session && load(KEYS.emailFor) === client.session.id

  /** Nobody online: the visitor's email, so the reply can reach them. */
  function askEmail(): void {
    if (hasEmail() || forms.email || client.session?.status === 'closed') return
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 254, 'aria-label': t.email, placeholder: t.email, required: true })
    log.append((forms.email = detailsForm('contact email', t.emailAsk, [email], t.saveEmail, () => client.start({ ...sessionDetails(), email: email.value.trim() }).then((s) => {
      save(KEYS.emailFor, s.id)
      return t.emailSaved
    }))))
  }

  function remove(): void {
    forms.contact?.remove()
    forms.email?.remove()
    forms.contact = forms.email = undefined
  }

  return { askContact, askEmail, hasEmail, remove }
}
