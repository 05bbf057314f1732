import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { waitFor } from './wait.js'

type Test = { teardown: (fn: () => unknown) => void }

export type Inbox = {
  url: string
  mails: ParsedMail[]
  /** the envelope recipients of each mail, in order */
  recipients: string[][]
  /** what the server answers to a mail: accept, or refuse with this SMTP code (451 temporary, 550 permanent) */
  answer: 'accept' | 451 | 550
  /** waits for the n-th mail (1-based) */
  nth: (n: number, timeoutMs?: number) => Promise<ParsedMail>
}

/** A real SMTP server on loopback (smtp-server) that parses what it receives (mailparser). */
export async function smtpInbox(t: Test): Promise<Inbox> {
  const inbox: Inbox = {
    url: '',
    mails: [],
    recipients: [],
    answer: 'accept',
    nth: (n, timeoutMs = 15_000) => waitFor(`mail #${n}`, () => inbox.mails[n - 1], timeoutMs),
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const answer = inbox.answer
      simpleParser(stream).then((mail) => {
        if (answer !== 'accept') {
          const err = new Error(answer === 451 ? 'try again later' : 'mailbox unavailable') as Error & { responseCode: number }
          err.responseCode = answer
          return callback(err)
        }
        inbox.mails.push(mail)
        inbox.recipients.push(session.envelope.rcptTo.map((r) => r.address))
        callback()
      }, (err: Error) => callback(err))
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  inbox.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`
  return inbox
}
