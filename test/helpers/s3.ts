import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import S3rver from 's3rver'

/**
 * A local S3-compatible server (s3rver) with one bucket: the allowed stand-in for S3, an
 * internet service. `env` configures the app to store attachments in it.
 */
export async function startS3(t: { teardown: (fn: () => unknown) => void }, bucket = 'chat-files') {
  const directory = mkdtempSync(join(tmpdir(), 'livechat-s3-'))
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  // s3rver's fixed credentials
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
  t.teardown(async () => {
    client.destroy()
    await server.close()
    rmSync(directory, { recursive: true, force: true })
  })
  return {
    env: { S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_REGION: 'us-east-1', S3_ACCESS_KEY_ID: credentials.accessKeyId, S3_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    /** keys of every object in the bucket */
    keys: async () => ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? ''),
    exists: async (key: string) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false),
  }
}
