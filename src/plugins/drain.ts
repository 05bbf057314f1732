import fp from 'fastify-plugin'

const DRAIN_SWEEP_MS = 100

/**
 * app.close() closes the keep-alive connections idle at that moment; one whose response was
 * still in flight (a file download whose last chunk query had not returned yet) became idle
 * a moment later and held the close for the keep-alive timeout (72 s). Until the server has
 * closed, the idle ones are closed again every sweep.
 */
export default fp(async (app) => {
  let sweep: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    sweep = setInterval(() => app.server.closeIdleConnections(), DRAIN_SWEEP_MS)
    sweep.unref()
  })
  // onClose hooks run once the server has closed
  app.addHook('onClose', async () => {
    clearInterval(sweep)
  })
}, { name: 'drain' })
