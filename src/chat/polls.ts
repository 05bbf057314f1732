import { sql, type SQL } from 'drizzle-orm'
import { Batcher } from '../db/batcher.js'
import { isPool, type Db, type Executor } from '../db/client.js'
import { preparedStatement } from '../db/prepared.js'
import { isUuid } from './ids.js'
import { messageFields, messageFromRow, type Message, type MessageRow } from './message-row.js'
import { DEFAULT_PAGE, seqBound, type MessageQuery } from './messages.js'

export type Poll = { messages: Message[]; status: 'open' | 'closed'; lastSeq: number; agentReadSeq: number }

/** One poll's inputs as the statements take them. */
type PollInput = { siteId: string; sessionId: string; after: number | null; since: string | null; limit: number }
type PollRow = { status: 'open' | 'closed'; last_seq: number; agent_read_seq: number } & Partial<MessageRow>

/**
 * A poll's page: its session's messages after `after` (null: from the start) and newer than
 * `since` (null: any), oldest first, at most `limit`; a session without one still has its row.
 */
const pollPage = (sessionId: SQL, after: SQL, since: SQL, limit: SQL) => sql`
    left join lateral (
      select * from chat_messages
      where session_id = ${sessionId} and seq > coalesce(${after}, 0) and created_at > coalesce(${since}, '-infinity')
      order by seq limit ${limit}
    ) m on true`

const pollStatement = preparedStatement<keyof PollInput, PollRow>(
  ['siteId', 'sessionId', 'after', 'since', 'limit'], (q) => sql`
    select s.status, s.last_seq, s.agent_read_seq, ${messageFields('m')}
    from chat_sessions s
    ${pollPage(sql`s.id`, sql`${q.after}::int`, sql`${q.since}::timestamptz`, sql`${q.limit}::int`)}
    where s.id = ${q.sessionId}::uuid and s.site_id = ${q.siteId}::uuid
    order by m.seq`)

/**
 * Many polls in one statement: the same query as pollStatement once per item of the input
 * arrays, each item's rows tagged with its position (`ord`, from 1), never told apart by
 * session id: two polls of one session with different pages may share a batch.
 * The session is a lateral lookup by key per poll: as a plain join the planner hashed the
 * inputs and scanned every session (5,000 sessions, 50 polls: 1.5 ms against 0.6 ms), and
 * `limit 1` keeps the subquery from being flattened back into that join. The inputs are JS
 * arrays, which postgres.js serialises (as for sends); the times go as text[], since drizzle
 * turns postgres.js's timestamptz[] serializer off (an array bound as timestamptz[] is sent
 * unserialised, and the query throws).
 */
const manyPollsStatement = preparedStatement<'siteIds' | 'sessionIds' | 'afters' | 'sinces' | 'limits', PollRow & { ord: number }>(
  ['siteIds', 'sessionIds', 'afters', 'sinces', 'limits'], (q) => sql`
    select p.ord::int as ord, s.status, s.last_seq, s.agent_read_seq, ${messageFields('m')}
    from unnest(${q.siteIds}::uuid[], ${q.sessionIds}::uuid[], ${q.afters}::int[], ${q.sinces}::text[]::timestamptz[], ${q.limits}::int[])
      with ordinality as p(site_id, session_id, after, since, page, ord)
    cross join lateral (
      select status, last_seq, agent_read_seq, id from chat_sessions
      where id = p.session_id and site_id = p.site_id
      limit 1
    ) s
    ${pollPage(sql`s.id`, sql`p.after`, sql`p.since`, sql`p.page`)}
    order by p.ord, m.seq`)

/** Adds one row (the session's, with or without a message) to its poll. */
function addRow(poll: Poll | undefined, row: PollRow): Poll {
  poll ??= { messages: [], status: row.status, lastSeq: row.last_seq, agentReadSeq: row.agent_read_seq }
  if (row.id !== null && row.id !== undefined) poll.messages.push(messageFromRow(row as MessageRow))
  return poll
}

async function pollOne(db: Executor, input: PollInput): Promise<Poll | undefined> {
  let poll: Poll | undefined
  // a loop, not flatMap: it allocated an array per row on the hottest route
  for (const row of await pollStatement(db, input)) poll = addRow(poll, row)
  return poll
}

async function pollMany(db: Db, inputs: PollInput[]): Promise<(Poll | undefined)[]> {
  const column = <K extends keyof PollInput>(k: K) => inputs.map((p) => p[k])
  const rows = await manyPollsStatement(db, {
    siteIds: column('siteId'), sessionIds: column('sessionId'), afters: column('after'), sinces: column('since'), limits: column('limit'),
  })
  const polls = new Array<Poll | undefined>(inputs.length).fill(undefined)
  for (const row of rows) polls[row.ord - 1] = addRow(polls[row.ord - 1], row)
  return polls
}

/**
 * Concurrent polls on the pool share statements (db/batcher.ts): a poll alone runs at once as
 * one statement; polls arriving while POLLS_IN_FLIGHT statements run go together as the next,
 * saving Postgres a statement start and a protocol exchange per poll and postgres.js a query
 * each. Chosen with bench:poll (README, "Where a widget request's CPU goes"). A shared
 * statement the server refused reruns its polls alone (only a bad one fails); one whose
 * connection was lost fails its polls, as it fails a lone poll (503: the widget polls again).
 */
const POLLS_IN_FLIGHT = 2
const MAX_POLLS_PER_STATEMENT = 100

const batchers = new WeakMap<Db, Batcher<PollInput, Poll | undefined>>()

function pollBatcher(db: Db): Batcher<PollInput, Poll | undefined> {
  let batcher = batchers.get(db)
  if (!batcher) {
    batcher = new Batcher<PollInput, Poll | undefined>({
      maxInFlight: POLLS_IN_FLIGHT,
      maxBatch: MAX_POLLS_PER_STATEMENT,
      runOne: (input) => pollOne(db, input),
      runMany: (inputs) => pollMany(db, inputs),
    })
    batchers.set(db, batcher)
  }
  return batcher
}

/**
 * The polling route's read: the session (of this site only) with its status, lastSeq and
 * agentReadSeq, and the page of messages, read in one statement, so in one snapshot, so they
 * agree. Undefined when the session is missing or another site's. In a transaction it runs
 * alone there.
 */
export async function pollMessages(db: Executor, siteId: string, sessionId: string, q: MessageQuery): Promise<Poll | undefined> {
  if (!isUuid(sessionId) || !isUuid(siteId)) return undefined
  const input: PollInput = { siteId, sessionId, after: q.after === undefined ? null : seqBound(q.after), since: q.since?.toISOString() ?? null, limit: q.limit ?? DEFAULT_PAGE }
  return isPool(db) ? pollBatcher(db).run(input) : pollOne(db, input)
}
