import fp from 'fastify-plugin'
import { drainNotifications, reportNotifications } from '../chat/events.js'
import { connectDb } from '../db/client.js'
import { runMigrations } from '../db/migrate.js'

/** One postgres.js pool per app; migrations are applied before any route runs. */
export default fp<{ databaseUrl: string; poolSize: number }>(async (app, opts) => {
  const handle = connectDb(opts.databaseUrl, { poolSize: opts.poolSize })
  try {
    await runMigrations(handle.db)
  } catch (err) {
    await handle.close()
    throw err
  }
  app.decorate('db', handle.db)
  reportNotifications(handle.db, app.log)
  app.decorate('sql', handle.sql)
  app.addHook('onClose', async () => {
    await drainNotifications(handle.db)
    await handle.close()
  })
}, { name: 'db' })
