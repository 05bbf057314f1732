const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Ids in URLs are checked before they reach Postgres, where a malformed uuid is an error, not a miss. */
export const isUuid = (s: string) => UUID_RE.test(s)
