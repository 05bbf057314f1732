import fp from 'fastify-plugin'
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
  app.decorate('sql', handle.sql)
  app.addHook('onClose', async () => {
    await handle.close()
  })
}, { name: 'db' })
