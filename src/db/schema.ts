/**
 * The database schema drizzle-kit generates migrations from (drizzle.config.ts) and the app
 * queries with; split in two files by subject.
 */
export * from './schema-core.js'
export * from './schema-delivery.js'
