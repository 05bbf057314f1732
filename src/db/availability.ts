// postgres.js and server-side codes meaning "the database is not reachable right now"
const DB_DOWN_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004',
])

/** The database cannot be reached right now (as opposed to refusing this statement): worth retrying. */
export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; errno?: string; cause?: unknown } | undefined
  if (!e || typeof e !== 'object') return false
  if ((e.code && DB_DOWN_CODES.has(e.code)) || (e.errno && DB_DOWN_CODES.has(e.errno))) return true
  return e.cause !== undefined && e.cause !== err && isDatabaseDown(e.cause)
}

/**
 * The server answered this statement with an error, so it was rolled back: it can run again
 * without storing anything twice. A dropped connection is not one (the commit may have
 * happened before the answer was lost), nor is a terminated backend.
 */
export function isStatementRefused(err: unknown): boolean {
  const e = err as { name?: string; code?: string; cause?: unknown } | undefined
  if (!e || typeof e !== 'object') return false
  if (e.name === 'PostgresError' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return !isDatabaseDown(e)
  return e.cause !== undefined && e.cause !== err && isStatementRefused(e.cause)
}
