import fp from 'fastify-plugin'

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // swagger-ui and our own components set inline style attributes
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ')

/** Hardening headers on every response; the CSP and frame rules on HTML pages. */
export default fp(async (app) => {
  // callback style: no promise per response
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'strict-origin-when-cross-origin')
    const type = String(reply.getHeader('content-type') ?? '')
    if (type.startsWith('text/html')) {
      reply.header('content-security-policy', CSP)
      reply.header('x-frame-options', 'DENY')
      reply.header('cross-origin-opener-policy', 'same-origin')
    }
    done(null, payload)
  })
}, { name: 'security-headers' })
