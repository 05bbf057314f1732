import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

const CSP_FIXED = [
  "default-src 'self'",
  "script-src 'self'",
  // swagger-ui and our own components set inline style attributes
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ')

const HSTS = 'max-age=31536000'
// what a Host header may hold; anything else is left out of the policy rather than echoed
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/

/** An http(s) origin and the ws(s) origin of the same host, which the pages' sockets use. */
function withSocketOrigin(origin: string): string[] {
  return [origin, origin.replace(/^http/, 'ws')]
}

/**
 * connect-src names this server only: the origin the page was served from and PUBLIC_URL
 * (they differ behind a proxy that rewrites Host), each with its WebSocket form. A bare
 * `ws: wss:` would let an injected script talk to any host.
 */
function contentSecurityPolicy(req: FastifyRequest, publicOrigin: string): string {
  const own = HOST.test(req.host) ? withSocketOrigin(`${req.protocol}://${req.host}`) : []
  const sources = new Set(["'self'", ...own, ...withSocketOrigin(publicOrigin)])
  return `${CSP_FIXED}; connect-src ${[...sources].join(' ')}`
}

/** Hardening headers on every response; the CSP and frame rules on HTML pages; no-store on API answers; HSTS over https. */
export default fp(async (app) => {
  const publicOrigin = new URL(app.config.publicUrl).origin
  // callback style: no promise per response
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'strict-origin-when-cross-origin')
    // req.protocol follows X-Forwarded-Proto only from the proxies TRUST_PROXY names
    if (req.protocol === 'https') reply.header('strict-transport-security', HSTS)
    // API answers carry tokens (login, a new or resumed session, a site's secret) and visitors'
    // messages and emails: no browser or proxy cache keeps them, unless a route says otherwise (files)
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    const type = String(reply.getHeader('content-type') ?? '')
    if (type.startsWith('text/html')) {
      reply.header('content-security-policy', contentSecurityPolicy(req, publicOrigin))
      reply.header('x-frame-options', 'DENY')
      reply.header('cross-origin-opener-policy', 'same-origin')
    }
    done(null, payload)
  })
}, { name: 'security-headers' })
