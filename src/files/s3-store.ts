import { Readable } from 'node:stream'
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { S3Config } from '../config.js'
import { FileMissing, type FileStore } from './store.js'

const KEY_PREFIX = 'attachments/'
// S3's smallest multipart part; a file below it is one PutObject
const PART_BYTES = 5 * 1024 * 1024

const keyOf = (id: string) => `${KEY_PREFIX}${id}`

/**
 * Files in an S3-compatible bucket (AWS, MinIO, Ceph, R2, ...) under `attachments/<id>`.
 * Uploads stream through @aws-sdk/lib-storage, which holds at most one 5 MiB part at a time
 * and aborts the multipart upload when the source fails.
 */
export function s3FileStore(cfg: S3Config): FileStore & { client: S3Client } {
  const client = new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle,
    ...(cfg.accessKeyId && cfg.secretAccessKey ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } } : {}),
    // checksums only where S3 demands them: many S3-compatible servers reject the newer headers
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    kind: 's3',
    client,

    async write({ id }, bytes, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket: cfg.bucket, Key: keyOf(id), Body: Readable.from(bytes), ContentType: contentType },
        queueSize: 1,
        partSize: PART_BYTES,
      })
      await upload.done()
    },

    async open(id) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: cfg.bucket, Key: keyOf(id) }))
        if (!(Body instanceof Readable)) throw new Error('S3 GetObject returned no stream')
        return Body
      } catch (err) {
        if (err instanceof NoSuchKey) throw new FileMissing(id)
        throw err
      }
    },

    async delete(ids) {
      // one at a time: DeleteObjects needs a Content-MD5 some S3-compatible servers insist on and newer SDKs no longer send
      for (const id of ids) await client.send(new DeleteObjectCommand({ Bucket: cfg.bucket, Key: keyOf(id) }))
    },
  }
}
