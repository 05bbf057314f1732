/**
 * A conversation label: 1–32 letters, digits, `_` or `-` (checked on the lower-case form, what
 * is stored). Its own module, with no imports, so that the dashboard checks the same rule before
 * saving (and says what to write) as the labels API and the list's label filter do.
 */
export const LABEL_PATTERN = '^[\\p{L}\\p{N}_-]{1,32}$'
