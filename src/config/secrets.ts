import { ConfigError, str, type Env } from './env.js'

// configured secrets in production: long enough that guessing is out of the question
const PRODUCTION_SECRET_MIN = 32
const SECRET_VARIABLES = ['JWT_SECRET', 'SECRETS_KEY', 'SECRETS_KEY_PREVIOUS', 'SITE_API_SECRET', 'TELEGRAM_WEBHOOK_SECRET', 'METRICS_TOKEN'] as const

export function checkSecretLengths(env: Env, production: boolean): void {
  for (const name of SECRET_VARIABLES) {
    const value = str(env, name)
    if (value === undefined) continue
    if (production && value.length < PRODUCTION_SECRET_MIN) {
      throw new ConfigError(`${name} must be at least ${PRODUCTION_SECRET_MIN} characters when NODE_ENV=production`)
    }
    if (name === 'JWT_SECRET' && value.length < 16) throw new ConfigError('JWT_SECRET must be at least 16 characters')
  }
}
