import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

const PREFIX = 'enc:v1:'
const IV_BYTES = 12
const TAG_BYTES = 16

/** What a sealed value is for; bound into the ciphertext, so a value cannot be moved to another column. */
export type SecretPurpose = 'setting' | 'telegram-bot-token' | 'webhook-secret'

type Key = { id: string; key: Buffer }

function deriveKey(material: string): Key {
  const key = Buffer.from(hkdfSync('sha256', material, 'livechat-secrets-at-rest', 'aes-256-gcm v1', 32))
  return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key }
}

export class SecretKeyMissing extends Error {}

/**
 * Secrets at rest (bot tokens, webhook signing secrets, generated server keys) sealed with
 * AES-256-GCM: `enc:v1:<key id>:<iv>:<ciphertext+tag>`. The key comes from SECRETS_KEY (or,
 * unset, from JWT_SECRET); the previous key (SECRETS_KEY_PREVIOUS) still opens what it
 * sealed until `npm run cli -- reseal-secrets` re-seals everything with the current one.
 * Without any key values are stored as given, and values stored in plain text by older
 * releases are read as they are.
 */
export class SecretBox {
  private readonly keys: Key[]

  constructor(materials: (string | undefined)[]) {
    this.keys = materials.filter((m): m is string => m !== undefined && m !== '').map(deriveKey)
  }

  get enabled(): boolean {
    return this.keys.length > 0
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX)
  }

  seal(plain: string, purpose: SecretPurpose): string {
    const current = this.keys[0]
    if (!current) return plain
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', current.key, iv)
    cipher.setAAD(Buffer.from(purpose))
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `${PREFIX}${current.id}:${iv.toString('base64url')}:${body.toString('base64url')}`
  }

  open(stored: string, purpose: SecretPurpose): string {
    if (!SecretBox.isSealed(stored)) return stored
    const [id, iv, body] = stored.slice(PREFIX.length).split(':')
    const key = this.keys.find((k) => k.id === id)
    if (!key || !iv || !body) {
      throw new SecretKeyMissing('A secret in the database was sealed with a key this server does not have: set SECRETS_KEY (and SECRETS_KEY_PREVIOUS during a rotation) as when it was stored')
    }
    const bytes = Buffer.from(body, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(purpose))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
  }

  /** Sealed with the current key already (nothing for a re-seal to do). */
  isCurrent(stored: string): boolean {
    const current = this.keys[0]
    return current === undefined ? !SecretBox.isSealed(stored) : stored.startsWith(`${PREFIX}${current.id}:`)
  }
}

export function secretBoxFor(config: { secretsKey?: string; jwtSecret?: string; secretsKeyPrevious?: string }): SecretBox {
  return new SecretBox([config.secretsKey ?? config.jwtSecret, config.secretsKeyPrevious])
}
