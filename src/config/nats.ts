import { ConfigError, str, withoutCredentials, type Env } from './env.js'

/** NATS_URL: one URL or several, comma-separated (the servers of one cluster). */
export function natsServers(env: Env, bus: 'postgres' | 'nats'): string[] {
  const raw = str(env, 'NATS_URL')
  if (raw === undefined) {
    if (bus === 'nats') throw new ConfigError('REALTIME_BUS=nats needs NATS_URL (for example nats://127.0.0.1:4222)')
    return []
  }
  return raw.split(',').map((u) => u.trim()).filter(Boolean).map((u) => {
    try {
      if (!/^(nats|tls):$/.test(new URL(u).protocol)) throw new Error('not nats:')
    } catch {
      throw new ConfigError(`NATS_URL must be nats:// or tls:// URLs, comma-separated, got "${withoutCredentials(u)}"`)
    }
    return u
  })
}
