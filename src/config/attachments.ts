import { bool, ConfigError, str, url, type Env } from './env.js'

export type AttachmentsConfig = {
  /** the largest file a visitor, an agent or a Telegram reply may attach */
  maxBytes: number
  /** how long a signed download URL works */
  urlTtlSeconds: number
  /** set: new files go to this S3-compatible bucket instead of Postgres */
  s3: S3Config | undefined
}

export type S3Config = {
  bucket: string
  /** unset: AWS's own endpoint for the region */
  endpoint: string | undefined
  region: string
  accessKeyId: string | undefined
  secretAccessKey: string | undefined
  /** bucket in the path (`endpoint/bucket/key`), as MinIO and most self-hosted servers want; AWS takes either */
  forcePathStyle: boolean
}

export function s3Config(env: Env): S3Config | undefined {
  const bucket = str(env, 'S3_BUCKET')
  if (bucket === undefined) {
    const stray = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].find((name) => str(env, name) !== undefined)
    if (stray) throw new ConfigError(`${stray} is set but S3_BUCKET is not: set S3_BUCKET to store attachments in S3`)
    return undefined
  }
  const accessKeyId = str(env, 'S3_ACCESS_KEY_ID')
  const secretAccessKey = str(env, 'S3_SECRET_ACCESS_KEY')
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together')
  }
  const endpoint = url(env, 'S3_ENDPOINT')
  return {
    bucket,
    endpoint,
    region: str(env, 'S3_REGION') ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
  }
}
