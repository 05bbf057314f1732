import { stdSerializers, type SerializedError } from 'pino'
import { valueHider, VALUE_FIELDS } from '../db/query-errors.js'

/**
 * The logger's `err` serializer: pino's (type, message and stack with their causes, the
 * error's own fields), minus the values a database error carries (db/query-errors.ts), plus
 * the code of the driver error drizzle wraps.
 */
export function errWithoutValues(err: Error): SerializedError {
  const out = stdSerializers.err(err)
  // pino hands over whatever is logged under `err`; what is not an Error goes out as it is
  if (!(err instanceof Error)) return out
  const hide = valueHider(err)
  out.message = hide(out.message)
  out.stack = hide(out.stack)
  for (const field of VALUE_FIELDS) delete out[field]
  // drizzle wraps the driver's error: its Postgres code (23505, 40P01...) says what happened
  const causeCode = (err.cause as { code?: unknown } | undefined)?.code
  if (out.code === undefined && typeof causeCode === 'string') out.code = causeCode
  return out
}
