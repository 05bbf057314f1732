import fp from 'fastify-plugin'

const DRAIN_SWEEP_MS = 100

/**
 * app.close() closes the keep-alive connections idle at that moment; one whose response was
 * still in flight (a file download whose last chunk query had not returned yet) became idle
 * a moment later and held the close for the keep-alive timeout (72 s). Until the server has
 * closed, the idle ones are closed again every sweep.
 *
 * A request that does not end (a client that stopped sending its body, a download read at a
 * trickle) held the close until REQUEST_TIMEOUT_MS (120 s), long after a process manager
 * stops waiting and kills the process (Docker after 10 s), embedded Postgres and all: after
 * DRAIN_TIMEOUT_MS its connection is cut.
 */
export default fp(async (app) => {
  let sweep: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    sweep = setInterval(() => app.server.closeIdleConnections(), DRAIN_SWEEP_MS)
    sweep.unref()
    deadline = setTimeout(() => {
      app.log.warn({ drainTimeoutMs: app.config.drainTimeoutMs }, 'requests still in flight after the drain timeout; closing their connections')
      app.server.closeAllConnections()
    }, app.config.drainTimeoutMs)
    deadline.unref()
  })
  // onClose hooks run once the server has closed
  app.addHook('onClose', async () => {
    clearInterval(sweep)
    clearTimeout(deadline)
  })
}, { name: 'drain' })
