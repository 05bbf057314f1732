import { DeliveryError } from '../outbox/worker.js'

export type Mail = {
  from: { name: string; address: string }
  to: string
  subject: string
  text: string
  html: string
  /** one-click unsubscribe (RFC 8058) */
  unsubscribeUrl: string
  /** the outbox event id: a retried email keeps its Message-ID */
  id: string
}

export type Mailer = { send: (mail: Mail) => Promise<void>; close: () => void }

/** EMAIL_FROM's address (`Name <a@b>` or `a@b`); the display name is the site's. */
export function senderAddress(emailFrom: string): string {
  return /<([^<>]+)>\s*$/.exec(emailFrom)?.[1] ?? emailFrom.trim()
}

/**
 * Sends through SMTP_URL with nodemailer (a connection per email: visitors' emails are few,
 * and nothing is left open to go stale). SMTP answers 5xx are permanent (the row is marked
 * failed at once); connection trouble and 4xx are retried by the outbox. nodemailer (some 40
 * modules) is loaded here, only where SMTP_URL is set, not by every start.
 */
export async function smtpMailer(smtpUrl: string, timeoutMs: number): Promise<Mailer> {
  const { default: nodemailer } = await import('nodemailer')
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  return {
    async send(mail) {
      const host = mail.from.address.split('@')[1] ?? 'localhost'
      try {
        await transport.sendMail({
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${mail.id}@${host}>`,
          headers: {
            'List-Unsubscribe': `<${mail.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            'Auto-Submitted': 'auto-generated',
          },
        })
      } catch (err) {
        const e = err as { responseCode?: number; code?: string; message?: string }
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600
        const reason = e.responseCode ? `SMTP server answered ${e.responseCode}` : `SMTP ${e.code ?? 'error'}: ${e.message ?? 'failed'}`
        throw new DeliveryError(reason.slice(0, 300), permanent)
      }
    },
    close: () => transport.close(),
  }
}
