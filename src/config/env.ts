// Readers for one environment variable each: absent or blank is undefined, a bad value is a ConfigError naming it.

export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>

export function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim()
  return v === undefined || v === '' ? undefined : v
}

export function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = str(env, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return n
}

export function positiveNumber(env: Env, name: string): number | undefined {
  const raw = str(env, name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a number above 0, got "${raw}"`)
  return n
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)
  if (raw === undefined) return fallback
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}

/** A URL as a message may show it: its user and password (everything before the last @) hidden. */
export const withoutCredentials = (url: string) => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, '$1[credentials]@')

export function url(env: Env, name: string, fallback?: string): string | undefined {
  const raw = str(env, name) ?? fallback
  if (raw === undefined) return undefined
  try {
    new URL(raw)
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${withoutCredentials(raw)}"`)
  }
  return raw.replace(/\/+$/, '')
}

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = str(env, name) ?? fallback
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`)
  return raw as T
}
