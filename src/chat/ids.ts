const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Ids in URLs are checked before they reach Postgres, where a malformed uuid is an error, not a miss. */
export const isUuid = (s: string) => UUID_RE.test(s)

/**
 * One spelling per id: a uuid in upper case names the same row, but ids are also compared as
 * text (visibility scopes, budget keys, session tokens, socket rooms, the audit log), as
 * Postgres writes them, lower-case. Anything that is not a uuid is left for the caller to refuse or miss.
 */
export const canonicalUuid = (s: string) => (isUuid(s) ? s.toLowerCase() : s)
