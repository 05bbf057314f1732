import { join } from 'node:path'
import t from 'tap'
import { backupToFile } from '../../src/backup/backup.js'
import { restoreFromFile } from '../../src/backup/restore.js'
import { emptyDatabase, freshDatabase } from '../helpers/app.js'
import { connect, tempDir } from '../helpers/backup-fixture.js'
import { MiB, seedManyMessages } from '../helpers/many-messages.js'

// The memory bound (1,000,000 messages, RSS growth under 100 MiB, issue 17) is a performance
// proof: `npm run bench:backup` measures it next to a bare COPY baseline (figures in the
// README). This checks the streaming is correct on a table far larger than one COPY chunk,
// one gzip block and one encrypted frame.
const MESSAGES = 10_000
const TEXT_BYTES = 200
// seeding, backup and restore take well under a minute idle; a loaded machine can take minutes
t.setTimeout(600_000)

const messagesDigest = async (sql: ReturnType<typeof connect>) =>
  (await sql<{ n: number; digest: string }[]>`
    select count(*)::int as n, md5(string_agg(m::text, E'\n' order by m.session_id, m.seq)) as digest from chat_messages m`)[0]

t.test(`backup and restore of ${MESSAGES} messages bring back every byte of every message`, async (t) => {
  const source = connect(t, await freshDatabase())
  const { messages, copyBytes } = await seedManyMessages(source, MESSAGES, TEXT_BYTES)
  t.ok(copyBytes > MiB, `the messages' text is ${(copyBytes / MiB).toFixed(1)} MiB`)
  const file = join(tempDir(t), 'big.backup')
  const key = 'a key for the large table'
  const backup = await backupToFile(source, file, { key })
  t.equal(backup.tables.find((x) => x.name === 'chat_messages')?.rows, messages)

  const target = connect(t, await emptyDatabase())
  const restore = await restoreFromFile(target, file, { key })
  t.equal(restore.tables.find((x) => x.name === 'chat_messages')?.rows, messages)
  t.same(await messagesDigest(target), await messagesDigest(source), 'the same rows, byte for byte')
})
