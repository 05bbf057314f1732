import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import t from 'tap'
import { backupToFile } from '../../src/backup/backup.js'
import { decryptingStream, encryptingStream, ENCRYPTED_MAGIC, FRAME_PLAIN_BYTES } from '../../src/backup/crypto.js'
import { restoreFromFile } from '../../src/backup/restore.js'
import { appliedSchemaVersion } from '../../src/db/migrate.js'
import { emptyDatabase } from '../helpers/app.js'
import { connect, dumpRows, schemaTables, seededBackup, tempDir } from '../helpers/backup-fixture.js'

const KEY = 'correct horse battery staple'
const HEADER_BYTES = 48
const TAG_BYTES = 16

const roundTrip = async (plain: Buffer, key = KEY) => buffer(Readable.from([plain]).pipe(encryptingStream(key)).pipe(decryptingStream(key)))

t.test('the encrypted stream gives back exactly what went in, whatever its size', async (t) => {
  for (const size of [0, 1, FRAME_PLAIN_BYTES - 1, FRAME_PLAIN_BYTES, FRAME_PLAIN_BYTES * 3 + 17]) {
    const plain = randomBytes(size)
    t.ok((await roundTrip(plain)).equals(plain), `${size} bytes`)
  }
})

/** Walks the frames of an encrypted file: [start, end) of each. */
function frames(bytes: Buffer): [number, number][] {
  const out: [number, number][] = []
  for (let at = HEADER_BYTES; at < bytes.length;) {
    const end = at + 4 + bytes.readUInt32BE(at) + TAG_BYTES
    out.push([at, end])
    at = end
  }
  return out
}

// one seeded database for the file, and its backup with BACKUP_KEY
const encrypted = await seededBackup(t, {
  key: KEY,
  // incompressible, so that the file holds several frames
  beforeClose: async (app) => void (await app.sql`insert into app_settings (key, value) values ('backup.noise', ${randomBytes(300_000).toString('base64')})`),
})

t.test('with BACKUP_KEY the file is encrypted; restore needs the same key and refuses any damage', async (t) => {
  const { file, sourceUrl, seeded } = encrypted
  const apiKey = seeded.site.apiKey
  const bytes = readFileSync(file)
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.ok(bytes.subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC), 'starts with the encrypted format mark')
  t.notOk(bytes.includes(Buffer.from(apiKey)), 'no secret in clear')
  const parts = frames(bytes)
  t.ok(parts.length >= 3, `several frames (${parts.length})`)
  t.equal(parts[parts.length - 1]?.[1], bytes.length, 'frames fill the file exactly')

  const dir = tempDir(t)
  const variant = (name: string, content: Buffer) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }
  const flipped = Buffer.from(bytes)
  const middle = parts[1]
  if (!middle) throw new Error('no second frame')
  flipped[middle[0] + 100] = (flipped[middle[0] + 100] ?? 0) ^ 1
  const [first, second] = [parts[0], parts[1]]
  if (!first || !second) throw new Error('too few frames')
  const swapped = Buffer.concat([bytes.subarray(0, first[0]), bytes.subarray(...second), bytes.subarray(...first), bytes.subarray(second[1])])
  const lastStart = parts[parts.length - 1]?.[0] ?? bytes.length
  const cases: [string, string, string | undefined, RegExp][] = [
    ['no key', file, undefined, /this backup is encrypted: set BACKUP_KEY/],
    ['a wrong key', file, 'another key, long enough', /wrong BACKUP_KEY/],
    ['a flipped bit', variant('flipped', flipped), KEY, /damaged or was altered/],
    ['frames in another order', variant('swapped', swapped), KEY, /damaged or was altered/],
    ['the last frame missing', variant('cut-at-frame', bytes.subarray(0, lastStart)), KEY, /truncated/],
    ['the end cut off', variant('cut', bytes.subarray(0, bytes.length - 7)), KEY, /truncated/],
    ['the header cut off', variant('header', bytes.subarray(0, 20)), KEY, /truncated/],
    ['bytes appended', variant('appended', Buffer.concat([bytes, Buffer.from('more')])), KEY, /data after its last frame/],
  ]
  const targetUrl = await emptyDatabase()
  const target = connect(t, targetUrl)
  for (const [what, path, key, error] of cases) {
    await t.rejects(restoreFromFile(target, path, { key }), error, what)
    t.equal(await appliedSchemaVersion(target), undefined, `${what}: the database is left as it was`)
  }
  await restoreFromFile(target, file, { key: KEY })
  t.same(await dumpRows(targetUrl, schemaTables()), await dumpRows(sourceUrl, schemaTables()), 'the right key restores everything')
})

t.test('an unencrypted backup that is cut short or is not a backup at all is refused', async (t) => {
  const { sourceUrl } = encrypted
  const dir = tempDir(t)
  const file = join(dir, 'plain.backup')
  await backupToFile(connect(t, sourceUrl), file)
  const bytes = readFileSync(file)
  t.ok(bytes[0] === 0x1f && bytes[1] === 0x8b, 'gzip')
  writeFileSync(join(dir, 'cut'), bytes.subarray(0, Math.floor(bytes.length * 0.8)))
  writeFileSync(join(dir, 'text'), 'hello, I am not a backup\n')
  const target = connect(t, await emptyDatabase())
  await t.rejects(restoreFromFile(target, join(dir, 'cut')), /truncated/)
  t.equal(await appliedSchemaVersion(target), undefined, 'nothing restored')
  await t.rejects(restoreFromFile(target, join(dir, 'text')), /is not a livechat backup/)
  await t.rejects(restoreFromFile(target, join(dir, 'missing')), /cannot read/)
  await t.rejects(backupToFile(connect(t, sourceUrl), file), /already exists/, 'a backup never overwrites a file')
})
