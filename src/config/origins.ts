import { ORIGIN_PATTERN } from '../chat/origin-pattern.js'
import { ConfigError, str, type Env } from './env.js'

/** SITE_ORIGINS, comma-separated; every origin (`*`) by default only outside production, unless the operator says so. */
export function siteOrigins(env: Env, production: boolean): string[] {
  const origins = (str(env, 'SITE_ORIGINS') ?? (production ? '' : '*')).split(',').map((o) => o.trim()).filter(Boolean)
  const shape = new RegExp(ORIGIN_PATTERN)
  const bad = origins.find((o) => !shape.test(o))
  // a host without its scheme (or with a path) never equals a browser's Origin: the widget would be refused everywhere
  if (bad !== undefined) throw new ConfigError(`SITE_ORIGINS must be * or origins such as https://shop.example, comma-separated, got "${bad}"`)
  return origins
}
