import { isIP } from 'node:net'
import { ConfigError, int, str, type Env } from './env.js'

/** Fastify's trustProxy: a hop count, or the proxies' addresses/CIDRs; never "trust every hop". */
export type TrustProxy = false | number | string[]

const CIDR = /^(.+)\/(\d{1,3})$/

function isAddressOrCidr(entry: string): boolean {
  const m = CIDR.exec(entry)
  const address = m?.[1] ?? entry
  const family = isIP(address)
  if (family === 0) return false
  // a /0 would name every address: "trust every hop" under another name
  return m === null || (Number(m[2]) >= 1 && Number(m[2]) <= (family === 4 ? 32 : 128))
}

/**
 * `1` (or `true`, read as one hop): the client is the address the nearest proxy saw;
 * `10.0.0.5, 10.1.0.0/16`: only these proxies are believed. "Trust every hop" is not
 * offered, since any client could then name its own address in X-Forwarded-For.
 */
export function trustProxy(env: Env): TrustProxy {
  const raw = str(env, 'TRUST_PROXY')
  if (raw === undefined || /^(0|false|no|off)$/i.test(raw)) return false
  if (/^(true|yes|on)$/i.test(raw)) return 1
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 0, 10)
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean)
  const wrong = entries.find((e) => !isAddressOrCidr(e))
  if (wrong !== undefined) throw new ConfigError(`TRUST_PROXY must be a hop count (1) or proxy addresses/CIDRs (not /0, which is every address), got "${wrong}"`)
  return entries
}
