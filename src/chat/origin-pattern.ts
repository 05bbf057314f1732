/**
 * A site origin as sites take it: `*` or scheme://host[:port] (the shape of a browser's Origin
 * header). Its own module, with no imports, so that the dashboard checks the same rule before
 * sending (and says what to write) as SITE_ORIGINS and the admin API do.
 */
export const ORIGIN_PATTERN = '^(\\*|https?://[^/\\s]+)/?$'
