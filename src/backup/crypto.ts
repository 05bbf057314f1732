import { createCipheriv, createDecipheriv, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { BackupError } from './errors.js'

/**
 * Encrypted backup files: a header, then frames of at most FRAME_PLAIN_BYTES each sealed
 * with AES-256-GCM, so the file is encrypted and checked as a stream in constant memory.
 *
 *   header  "LCBKENC1" | kdf id (1) | salt (16) | nonce prefix (7) | key check (16)   = 48 bytes
 *   frame   ciphertext length (uint32 BE) | ciphertext | GCM tag (16)
 *
 * The key is scrypt(BACKUP_KEY, salt). Frame i's nonce is prefix | i (uint32 BE) | final
 * flag (1 on the last frame, 0 otherwise), and every frame authenticates the header as
 * associated data: a frame that is altered, moved, dropped or taken from another file
 * fails its tag, and a file cut short has no final frame. The key check (an HMAC of the
 * header under a second derived key) tells a wrong key apart from a damaged file.
 */
export const ENCRYPTED_MAGIC = Buffer.from('LCBKENC1')
const KDF_SCRYPT = 1
const SALT_BYTES = 16
const PREFIX_BYTES = 7
const CHECK_BYTES = 16
const TAG_BYTES = 16
const HEADER_BYTES = ENCRYPTED_MAGIC.length + 1 + SALT_BYTES + PREFIX_BYTES + CHECK_BYTES
export const FRAME_PLAIN_BYTES = 64 * 1024
// scrypt N=2^15, r=8: about 0.1 s and 32 MiB once per file
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

type Keys = { cipherKey: Buffer; checkKey: Buffer }

function deriveKeys(passphrase: string, salt: Buffer): Keys {
  const bytes = scryptSync(passphrase, salt, 64, SCRYPT)
  return { cipherKey: bytes.subarray(0, 32), checkKey: bytes.subarray(32) }
}

const keyCheck = (checkKey: Buffer, headerStart: Buffer) => createHmac('sha256', checkKey).update(headerStart).digest().subarray(0, CHECK_BYTES)

function nonce(prefix: Buffer, counter: number, final: boolean): Buffer {
  const n = Buffer.alloc(12)
  prefix.copy(n, 0)
  n.writeUInt32BE(counter, PREFIX_BYTES)
  n[11] = final ? 1 : 0
  return n
}

/** Plain bytes in, the encrypted file format out. */
export function encryptingStream(passphrase: string): Transform {
  const salt = randomBytes(SALT_BYTES)
  const prefix = randomBytes(PREFIX_BYTES)
  const { cipherKey, checkKey } = deriveKeys(passphrase, salt)
  const headerStart = Buffer.concat([ENCRYPTED_MAGIC, Buffer.from([KDF_SCRYPT]), salt, prefix])
  const header = Buffer.concat([headerStart, keyCheck(checkKey, headerStart)])
  let counter = 0
  let pending: Buffer[] = []
  let pendingBytes = 0

  const seal = (plain: Buffer, final: boolean): Buffer => {
    if (counter > 0xffffffff) throw new BackupError('backup too large for one file')
    const cipher = createCipheriv('aes-256-gcm', cipherKey, nonce(prefix, counter++, final))
    cipher.setAAD(header)
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(body.length)
    return Buffer.concat([length, body, cipher.getAuthTag()])
  }

  return new Transform({
    construct(callback) {
      this.push(header)
      callback()
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= FRAME_PLAIN_BYTES) {
        let all = Buffer.concat(pending)
        while (all.length >= FRAME_PLAIN_BYTES) {
          this.push(seal(all.subarray(0, FRAME_PLAIN_BYTES), false))
          all = all.subarray(FRAME_PLAIN_BYTES)
        }
        pending = [all]
        pendingBytes = all.length
      }
      callback()
    },
    flush(callback: TransformCallback) {
      this.push(seal(Buffer.concat(pending), true))
      callback()
    },
  })
}

/** The encrypted file format in, plain bytes out; refuses a wrong key, a damaged or a truncated file. */
export function decryptingStream(passphrase: string): Transform {
  let buffered: Buffer = Buffer.alloc(0)
  let header: Buffer | undefined
  let cipherKey: Buffer | undefined
  let prefix: Buffer | undefined
  let counter = 0
  let finished = false

  const readHeader = (): boolean => {
    if (buffered.length < HEADER_BYTES) return false
    header = buffered.subarray(0, HEADER_BYTES)
    buffered = buffered.subarray(HEADER_BYTES)
    if (!header.subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC)) throw new BackupError('not an encrypted backup')
    if (header[ENCRYPTED_MAGIC.length] !== KDF_SCRYPT) throw new BackupError('this backup uses an unknown key derivation: was it made by a newer release?')
    const saltAt = ENCRYPTED_MAGIC.length + 1
    const salt = header.subarray(saltAt, saltAt + SALT_BYTES)
    prefix = header.subarray(saltAt + SALT_BYTES, saltAt + SALT_BYTES + PREFIX_BYTES)
    const keys = deriveKeys(passphrase, salt)
    const check = header.subarray(HEADER_BYTES - CHECK_BYTES)
    if (!timingSafeEqual(check, keyCheck(keys.checkKey, header.subarray(0, HEADER_BYTES - CHECK_BYTES)))) {
      throw new BackupError('wrong BACKUP_KEY: this backup was encrypted with another key')
    }
    cipherKey = keys.cipherKey
    return true
  }

  /** The next frame's plain bytes, or undefined when it has not fully arrived. */
  const openFrame = (): { plain: Buffer; final: boolean } | undefined => {
    if (buffered.length < 4) return undefined
    const length = buffered.readUInt32BE(0)
    if (length > FRAME_PLAIN_BYTES) throw new BackupError('the backup file is damaged (a frame is too large)')
    if (buffered.length < 4 + length + TAG_BYTES) return undefined
    const body = buffered.subarray(4, 4 + length)
    const tag = buffered.subarray(4 + length, 4 + length + TAG_BYTES)
    buffered = buffered.subarray(4 + length + TAG_BYTES)
    // a frame is either the last one or not; only one of the two nonces opens it
    for (const final of [false, true]) {
      if (!cipherKey || !prefix || !header) break
      const decipher = createDecipheriv('aes-256-gcm', cipherKey, nonce(prefix, counter, final))
      decipher.setAAD(header)
      decipher.setAuthTag(tag)
      try {
        const plain = Buffer.concat([decipher.update(body), decipher.final()])
        counter++
        return { plain, final }
      } catch {
        // try the other flag, then give up
      }
    }
    throw new BackupError('the backup file is damaged or was altered (a frame failed its integrity check)')
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
        if (!header && !readHeader()) return callback()
        while (!finished) {
          const frame = openFrame()
          if (!frame) break
          if (frame.plain.length > 0) this.push(frame.plain)
          finished = frame.final
        }
        if (finished && buffered.length > 0) throw new BackupError('the backup file is damaged (data after its last frame)')
        callback()
      } catch (err) {
        callback(err as Error)
      }
    },
    flush(callback: TransformCallback) {
      if (!finished) return callback(new BackupError('the backup file is truncated (its last frame is missing)'))
      callback()
    },
  })
}
