import type { IncomingHttpHeaders } from 'node:http'
import type { onRequestHookHandler, onSendHookHandler } from 'fastify'
import { clientErrorHandler } from './errors.js'

const requestTimedOut = () => Object.assign(new Error('the request body did not arrive in time'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })

/** HTTP/1.1 (RFC 9112, 6.3): a request has a body only with a Transfer-Encoding or a non-zero Content-Length. */
const declaresBody = (headers: IncomingHttpHeaders) =>
  headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')

/**
 * onRequest: a request whose body has not all arrived `ms` after its headers is answered 408
 * (in the envelope, as Node's own header timeout is) and its connection closed. Fastify sets no
 * request timeout, and Node's stops counting once a request reaches its route: a client that
 * trickled its body a byte at a time held a connection, and a file descriptor, for ever.
 */
export function bodyDeadline(ms: number): onRequestHookHandler {
  return (req, reply, done) => {
    const raw = req.raw
    // Only a request that declares a body can trickle one. Node marks even a bodyless GET
    // complete only after this hook (checked: raw.complete is false here for every GET), so
    // without this every poll armed a timer and two listeners for nothing.
    if (raw.complete || !declaresBody(raw.headers)) return done()
    const timer = setTimeout(() => {
      if (raw.complete) return
      // an answer already on its way (a route that refused early) is cut, not followed by a second one
      if (reply.raw.headersSent) raw.socket.destroy()
      else clientErrorHandler(requestTimedOut(), raw.socket)
    }, ms)
    timer.unref()
    raw.once('end', () => clearTimeout(timer))
    raw.once('close', () => clearTimeout(timer))
    done()
  }
}

/** How long the rest of a refused body is read and dropped after the answer (nginx's lingering_time). */
export const LINGER_MS = 30_000

/**
 * onSend: an answer given before the request's body has all arrived (a refused upload, a JSON
 * body over BODY_LIMIT_BYTES) keeps the connection while the rest of the body is read and
 * dropped, for up to LINGER_MS (and never past the request's deadline), as nginx's lingering
 * close does. Closing at once makes the kernel reset the connection over the unread bytes, and
 * a client still sending (fetch, a browser) then reports a network error instead of the 413.
 */
export function lingerOverUnreadBody(ms: number): onSendHookHandler {
  return (req, reply, payload, done) => {
    const raw = req.raw
    // readableEnded too: an injected request (app.inject) never sets `complete`
    if (raw.complete || raw.readableEnded || !declaresBody(raw.headers)) return done(null, payload)
    // Node closes a `Connection: close` answer's socket as soon as it is written, over the unread body
    reply.removeHeader('connection')
    raw.unpipe()
    raw.resume()
    // the request (which ends its socket), not the socket itself: an injected request's stand-in has no destroy
    const timer = setTimeout(() => raw.destroy(), ms)
    timer.unref()
    raw.once('end', () => clearTimeout(timer))
    raw.once('close', () => clearTimeout(timer))
    done(null, payload)
  }
}
