import { inspect } from 'node:util'
import { buildApp } from './app.js'
import { bootstrap, type BootstrapReport } from './bootstrap.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { isDatabaseDown } from './db/availability.js'
import { connectDb } from './db/client.js'
import { EmbeddedDbError, startEmbeddedPostgres, type EmbeddedDb } from './db/embedded.js'
import { SecretKeyMissing } from './chat/secret-box.js'
import { errWithoutValues } from './http/log-errors.js'

/** The admin and the site, with the secrets only this start knows (shown once). */
function credentialLines(report: BootstrapReport): string[] {
  const lines: string[] = []
  if (report.admin) {
    lines.push(`  Admin email:     ${report.admin.email}`)
    if (report.admin.password) lines.push(`  Admin password:  ${report.admin.password}   (shown once; change it in the dashboard or with npm run cli -- set-password)`)
  }
  if (report.site) {
    lines.push(`  Site API key:    ${report.site.site.apiKey}`)
    if (report.site.apiSecret) lines.push(`  Site API secret: ${report.site.apiSecret}   (shown once; for server-to-server calls)`)
  }
  return lines
}

function printWelcome(config: Config, port: number, report: BootstrapReport, embeddedDir: string | undefined): void {
  const base = `http://localhost:${port}`
  // the default PUBLIC_URL names the configured port, which is 0 when the system picked one
  const publicUrl = config.publicUrl === `http://localhost:${config.port}` ? base : config.publicUrl
  const lines = ['', '  Live chat is running', '']
  lines.push(`  Dashboard:       ${base}/admin`)
  if (config.nodeEnv !== 'production') lines.push(`  Demo page:       ${base}/`)
  lines.push(`  API docs:        ${base}/docs`)
  if (embeddedDir) lines.push(`  Database:        embedded Postgres in ${embeddedDir}`)
  lines.push(...credentialLines(report))
  if (report.site) {
    lines.push(`  Embed:           <script src="${publicUrl}/widget.js" data-api-key="${report.site.site.apiKey}" async></script>`)
  }
  console.log(lines.join('\n') + '\n')
}

/** An error for the console: its stack (with causes) and fields, without a database statement's values, as the log has it. */
function printable(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  const serialized = errWithoutValues(err)
  const fields = Object.fromEntries(Object.entries(serialized).filter(([key]) => !['type', 'message', 'stack'].includes(key)))
  return Object.keys(fields).length > 0 ? `${serialized.stack}\n${inspect(fields)}` : serialized.stack
}

/** Until the app's logger exists, the console; then the app's log (JSON with the stack under err). */
let logFatal = (err: unknown, msg: string) => console.error(msg, printable(err))

// A process in an unknown state must not go on serving; but it says why before it goes.
process.on('uncaughtException', (err) => {
  logFatal(err, 'uncaught exception; exiting')
  process.exit(1)
})

/** listen failures that are the operator's settings, not a fault: said in a sentence, without a stack */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is in use (another server?)',
  EACCES: 'not permitted (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
  ENOTFOUND: 'no such host name',
}

/** What a start that fails half-way must undo: the embedded Postgres it started (and the app's connections to it). */
const started: { embedded?: EmbeddedDb; app?: Awaited<ReturnType<typeof buildApp>>; report?: BootstrapReport } = {}

/**
 * Ctrl-C or SIGTERM before the server listens (a slow first start, a process manager stopping
 * it at once) would end Node there and then, leaving the embedded Postgres (a session of its
 * own) running: the start stops at its next step instead and undoes what it did. SIGHUP (the
 * terminal that ran npm start closed, an ssh session dropped) is a stop too, not a reload.
 */
let interrupted: NodeJS.Signals | undefined
let drain: ((signal: NodeJS.Signals) => void) | undefined
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => (drain ? drain(signal) : (interrupted ??= signal)))

function stopIfInterrupted(): void {
  if (interrupted) throw new Error(`stopped by ${interrupted} before the start finished`)
}

/** How long a start waits before trying again while its database, reached once, is away. */
const START_RETRY_MS = 500

/** The database answers: one that cannot be reached now is the operator's setting to check, not a fault (host only: the URL holds the password). */
async function firstContact(config: Config, databaseUrl: string): Promise<void> {
  const probe = connectDb(databaseUrl, { poolSize: 1 })
  try {
    await probe.sql`select 1`
  } catch (err) {
    if (!config.databaseUrl || !isDatabaseDown(err)) throw err
    throw new ConfigError(`cannot reach the database at ${new URL(config.databaseUrl).host} (DATABASE_URL): ${(err as Error).message}`)
  } finally {
    await probe.close()
  }
}

/** The innermost cause's message: a driver's "connect ECONNREFUSED …", not the statement that met it. */
const rootMessage = (err: unknown): string =>
  err instanceof Error && err.cause instanceof Error && err.cause !== err ? rootMessage(err.cause) : String((err as Error | undefined)?.message ?? err)

/**
 * The app and the configured admin and site. The database was reached, so a database that goes
 * away now (a restart or a failover half-way through the start) is waited for, as a running
 * server waits for it, instead of ending the start: an instance restarted during a database
 * restart would otherwise stay down.
 */
async function buildAndBootstrap(config: Config, databaseUrl: string): Promise<{ app: Awaited<ReturnType<typeof buildApp>>; report: BootstrapReport }> {
  for (let failures = 0; ; failures++) {
    try {
      const app = (started.app = await buildApp({ config, databaseUrl }))
      logFatal = (err, msg) => app.log.fatal({ err }, msg)
      stopIfInterrupted()
      const report = (started.report = await bootstrap(app.db, app.bus, app.secretBox, config))
      return { app, report }
    } catch (err) {
      if (interrupted || !isDatabaseDown(err)) throw err
      // once: a database away for long would otherwise fill the log twice a second
      if (failures === 0) console.error(`database went away during the start; waiting for it (${rootMessage(err)})`)
      await started.app?.close().catch(() => {})
      started.app = undefined
      await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS))
      stopIfInterrupted()
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfig()
  const embedded = (started.embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir))
  stopIfInterrupted()
  const databaseUrl = config.databaseUrl ?? embedded?.url
  if (!databaseUrl) throw new Error('no database')
  await firstContact(config, databaseUrl)
  const { app, report } = await buildAndBootstrap(config, databaseUrl)
  stopIfInterrupted()
  await app.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
    const why = LISTEN_ERRORS[err.code ?? '']
    throw why ? new ConfigError(`cannot listen on ${config.host}:${config.port} (HOST, PORT): ${why}`) : err
  })
  // PORT=0 picks a free port: print the one actually bound
  const bound = app.server.address()
  printWelcome(config, typeof bound === 'object' && bound ? bound.port : config.port, report, embedded?.clusterDir)

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'draining')
    try {
      // drains: requests in flight finish, keep-alive connections close (plugins/drain.ts)
      await app.close()
      await embedded?.stop()
      process.exit(0)
    } catch (err) {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  }
  drain = (signal) => void shutdown(signal)
  // a signal during listen: drained like any other
  if (interrupted) drain(interrupted)
}

main().catch(async (err: unknown) => {
  // a signal may also have ended a step itself (Ctrl-C reaches initdb too): the stop was asked for
  if (interrupted) {
    console.error(`Stopped by ${interrupted} before the start finished`)
  } else if (err instanceof ConfigError || err instanceof EmbeddedDbError || err instanceof SecretKeyMissing) {
    console.error(`Cannot start: ${err.message}`)
  } else {
    console.error('Cannot start:', printable(err))
  }
  // made and stored already: a later start would not show them again
  if (started.report?.admin?.password || started.report?.site?.apiSecret) {
    console.log(['', '  Created before the start failed (shown once; keep them):', ...credentialLines(started.report), ''].join('\n'))
  }
  // a Postgres left running would hold DATA_DIR for a server nobody started
  await started.app?.close().catch(() => {})
  await started.embedded?.stop()
  process.exit(interrupted ? 0 : 1)
})
