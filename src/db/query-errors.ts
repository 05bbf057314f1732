import { DrizzleQueryError } from 'drizzle-orm'

/**
 * Database errors carry the values bound to their statement: drizzle's DrizzleQueryError in
 * its message ("Failed query: <sql>\nparams: <values>"), its stack and `params`; postgres.js
 * in `parameters` and `args` (enumerable in its debug mode); Postgres itself in `detail`
 * ("Key (email)=(…) already exists", "Failing row contains (…)"). Those values are chat
 * text, emails, password hashes, tokens: what is logged or stored about an error keeps the
 * SQL, the code, the table and the constraint, never the values.
 */
export const VALUE_FIELDS: ReadonlySet<string> = new Set(['params', 'parameters', 'args', 'detail'])

const MAX_CAUSES = 8

/** For each drizzle error in `err` and its causes: its message, and the same without the values. */
function valueTexts(err: unknown): [string, string][] {
  const swaps: [string, string][] = []
  let e = err
  for (let depth = 0; e instanceof Error && depth < MAX_CAUSES; depth++, e = e.cause) {
    if (e instanceof DrizzleQueryError) swaps.push([e.message, `Failed query: ${e.query}\nparams: (${e.params.length} values, not logged)`])
  }
  return swaps
}

/** A function that hides, in any text, the values `err` (or its causes) carries in their messages. */
export function valueHider(err: unknown): (text: string) => string {
  const swaps = valueTexts(err)
  return (text) => swaps.reduce((t, [withValues, without]) => t.split(withValues).join(without), text)
}

/** The error's message without bound values: for logs and stored delivery errors. */
export function messageWithoutValues(err: unknown): string {
  return err instanceof Error ? valueHider(err)(err.message) : String(err)
}
