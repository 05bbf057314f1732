import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { findOldestSite, findSiteByApiKey } from '../chat/sites.js'
import { notFound } from '../chat/errors.js'
import { buildWebAssets, type Asset, type WebAssets } from '../web/build.js'
import { dashboardHtml, demoHtml } from '../web/pages.js'

const LOADER_MAX_AGE_S = 300
const IMMUTABLE = 'public, max-age=31536000, immutable'
const UI_CHUNK_NAME = /^ui\.[\w-]{1,64}\.js$/

// one build per process, started with the first app and shared by every later one (tests build many apps)
let assets: Promise<WebAssets> | undefined
const webAssets = () => (assets ??= buildWebAssets())

/** Whether Accept-Encoding offers gzip (by name or `*`) with a weight above 0. */
function acceptsGzip(header: string | undefined): boolean {
  const weights = new Map<string, number>()
  for (const offer of (header ?? '').split(',')) {
    const [coding = '', ...params] = offer.split(';').map((p) => p.trim().toLowerCase())
    const q = params.find((p) => p.startsWith('q='))
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)) || 0)
  }
  return (weights.get('gzip') ?? weights.get('*') ?? 0) > 0
}

/** The asset gzipped when the client takes it (the widget's budgets are what goes over the wire), each encoding with its own ETag. */
function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset, cacheControl: string) {
  const gzip = acceptsGzip(req.headers['accept-encoding'])
  const etag = gzip ? `${a.etag.slice(0, -1)}-gz"` : a.etag
  const vary = reply.getHeader('vary')
  reply.header('content-type', a.type).header('cache-control', cacheControl).header('etag', etag)
    .header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding')
  if (req.headers['if-none-match'] === etag) return reply.code(304).send()
  if (gzip) reply.header('content-encoding', 'gzip')
  return reply.send(gzip ? a.gzip : a.body)
}

/**
 * The web parts: the widget (a small loader every page loads, and its UI chunk), the
 * dashboard at /admin, and the demo page at / outside production. Built in memory at start.
 */
export default (async (app) => {
  const ready = webAssets()
  // surfaces a broken build at start instead of on the first request
  app.addHook('onReady', async () => void (await ready))

  app.get('/widget.js', { schema: { hide: true } }, async (req, reply) => {
    reply.header('access-control-allow-origin', '*')
    return sendAsset(req, reply, (await webAssets()).loader, `public, max-age=${LOADER_MAX_AGE_S}`)
  })

  app.get<{ Params: { file: string } }>('/widget/:file', { schema: { hide: true } }, async (req, reply) => {
    const { ui } = await webAssets()
    if (!UI_CHUNK_NAME.test(req.params.file)) throw notFound('File')
    // the loader imports the chunk as a module from the host page's origin, which needs CORS
    reply.header('access-control-allow-origin', '*')
    // a loader cached before a deploy asks for the old chunk: it gets the current one, uncached under that name
    return sendAsset(req, reply, ui, req.params.file === ui.name ? IMMUTABLE : 'no-cache')
  })

  app.get('/admin', { schema: { hide: true } }, async (_req, reply) => {
    const { dashboardJs, dashboardCss } = await webAssets()
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(dashboardHtml(dashboardJs.name, dashboardCss.name))
  })

  app.get<{ Params: { file: string } }>('/admin/:file', { schema: { hide: true } }, async (req, reply) => {
    const { dashboardJs, dashboardCss } = await webAssets()
    const file = [dashboardJs, dashboardCss].find((a) => a.name === req.params.file)
    if (!file) throw notFound('File')
    return sendAsset(req, reply, file, IMMUTABLE)
  })

  if (app.config.nodeEnv !== 'production') {
    app.get('/', { schema: { hide: true } }, async (req, reply) => {
      const key = app.config.siteApiKey
      const site = key ? await findSiteByApiKey(app.db, key) : await findOldestSite(app.db)
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(demoHtml(site?.apiKey, `${req.protocol}://${req.host}`))
    })
  }
}) satisfies FastifyPluginAsync
