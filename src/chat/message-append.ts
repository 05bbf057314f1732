import { sql, type SQL } from 'drizzle-orm'
import { preparedStatement, type StatementInput } from '../db/prepared.js'
import { anyQueued, messageOutboxCtes, offlineEmailCte } from '../outbox/enqueue.js'
import { messageFields, type MessageRow } from './message-row.js'

const APPEND_INPUTS = ['sessionId', 'siteIds', 'sender', 'senderName', 'text', 'clientMessageId', 'agentId', 'attachmentIds', 'awayMs', 'batchMs'] as const
type AppendInputs = Record<(typeof APPEND_INPUTS)[number], StatementInput>
/** The values of one call of the single append statement. */
export type AppendValues = Record<(typeof APPEND_INPUTS)[number], unknown>
/** A stored message as the append statements return it. */
export type AppendedRow = MessageRow & { siteId: string; outboxQueued: boolean }

/**
 * The CTEs that take a message's attachments, for the statement that stores it: `att` locks
 * the files (complete, of this session and side, not yet sent; FOR UPDATE waits for a
 * concurrent send of the same file and then sees it taken), the session is claimed only when
 * all of them are free, and `linked` hands them to the new message. Without attachments the
 * statement has none of this.
 */
function attachmentCtes(m: AppendInputs) {
  // one array parameter, '{id,...}' (the ids are checked uuids, so the literal needs no quoting)
  const idArray = sql`${m.attachmentIds}::uuid[]`
  return {
    locked: sql`att as (
      select id, name, content_type, size from chat_attachments
      where id = any(${idArray}) and session_id = ${m.sessionId}::uuid
        and uploader = (case when ${m.sender}::text = 'visitor' then 'visitor' else 'staff' end) and complete and message_id is null
      order by id
      for update
    )`,
    allFree: sql`and (select count(*) from att) = cardinality(${idArray})`,
    metadata: sql`(select jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'contentType', a.content_type, 'size', a.size)
      order by array_position(${idArray}, a.id)) from att a)`,
    linked: sql`linked as (
      update chat_attachments f set message_id = i.id from inserted i
      where f.id in (select id from att)
    )`,
  }
}

/**
 * One message's values as SQL: the single statement's parameters, or a row `x` of a batch's
 * input (message-append-batch.ts).
 */
export type AppendRow = Record<'sessionId' | 'siteIds' | 'sender' | 'senderName' | 'text' | 'clientMessageId' | 'agentId' | 'awayMs' | 'batchMs', SQL>

/**
 * Where the statement's sessions and messages come from: the claim's UPDATE joins `claimFrom`
 * and picks its sessions by `claimWhere`; the INSERT reads `insertFrom`, the claimed rows `c`
 * (with the input rows `x` of a batch).
 */
export type AppendSource = { claimFrom: SQL; claimWhere: SQL; insertFrom: SQL }

/**
 * The claim, insert and outbox CTEs of the append statement, per claimed session (one in the
 * single statement, one per message in a batch), and `queued`: true when an outbox row was inserted.
 */
export function appendCtes(m: AppendRow, source: AppendSource, forwardToTelegram: boolean, offlineEmail: boolean, files?: AttachmentCtes) {
  // statement_timestamp() is fixed for the statement, so every column gets the same instant;
  // greatest() over the row's own previous value (re-read after the lock wait) keeps it strictly increasing.
  const at = sql`greatest(date_trunc('milliseconds', statement_timestamp()), s.last_message_at + interval '1 millisecond')`
  // away when last heard from before the reply minus the away time (visitor_seen_at is never later than the truth)
  const away = sql`(s.email is not null and not s.email_opt_out and s.visitor_seen_at < ${at} - ${m.awayMs} * interval '1 millisecond')`
  // the first reply to an away visitor opens a batch; replies before its end join it
  const emailBatch = offlineEmail
    ? sql`, email_batch_until = case when not ${away} then s.email_batch_until
        when s.email_batch_until >= ${at} then s.email_batch_until else ${at} + ${m.batchMs} * interval '1 millisecond' end`
    : sql``
  const claimed = sql`claimed as (
      update chat_sessions s set
        last_seq = s.last_seq + 1,
        last_message_at = ${at},
        last_visitor_message_at = case when ${m.sender} = 'visitor' then ${at} else s.last_visitor_message_at end,
        unread_count = case ${m.sender} when 'visitor' then s.unread_count + 1 when 'agent' then 0 else s.unread_count end,
        first_response_at = case when ${m.sender} = 'agent' then coalesce(s.first_response_at, ${at}) else s.first_response_at end,
        updated_at = ${at}${emailBatch}
      ${source.claimFrom}
      where ${source.claimWhere} and s.status = 'open' and (${m.siteIds} is null or s.site_id = any(string_to_array(${m.siteIds}, ',')::uuid[]))
        ${files?.allFree ?? sql``}
      returning s.id, s.site_id, s.last_seq, s.last_message_at, s.name${offlineEmail ? sql`, s.email_batch_until,
        (s.email is not null and not s.email_opt_out and s.visitor_seen_at < s.last_message_at - ${m.awayMs} * interval '1 millisecond') as email_away` : sql``}
    )`
  const inserted = sql`inserted as (
      insert into chat_messages (site_id, session_id, seq, sender, sender_name, text, client_message_id, agent_id, attachments, created_at)
      select c.site_id, c.id, c.last_seq, ${m.sender}, case when ${m.sender} = 'visitor' then c.name else ${m.senderName} end, ${m.text},
        ${m.clientMessageId}, ${m.agentId}, ${files?.metadata ?? sql`null::jsonb`}, c.last_message_at
      from ${source.insertFrom}
      returning *
    )`
  // one claimed session per message: the outbox rows join each message to its own session's claim
  const from = sql`inserted i join claimed c on c.id = i.session_id`
  const outbox = messageOutboxCtes({
    from, id: sql`i.id`, sessionId: sql`i.session_id`, siteId: sql`c.site_id`, seq: sql`i.seq`,
    sender: sql`i.sender`, senderName: sql`i.sender_name`, text: sql`i.text`, attachments: sql`i.attachments`, createdAt: sql`i.created_at`,
  }, forwardToTelegram)
  if (offlineEmail) outbox.push(offlineEmailCte({ from, messageId: sql`i.id`, sessionId: sql`i.session_id`, siteId: sql`c.site_id`, seq: sql`i.seq`, dueAt: sql`c.email_batch_until`, away: sql`c.email_away` }))
  const outboxCtes = outbox.map((o) => o.cte)
  return { ctes: files ? [files.locked, claimed, inserted, files.linked, ...outboxCtes] : [claimed, inserted, ...outboxCtes], queued: anyQueued(outbox) }
}

/** The append statement, with or without the Telegram outbox row, attachments and the offline email (agent replies); see appendMessage (chat/messages.ts). */
const appendStatement = (forwardToTelegram: boolean, withFiles: boolean, offlineEmail: boolean) => preparedStatement<(typeof APPEND_INPUTS)[number], AppendedRow>(APPEND_INPUTS, (p) => {
  const m: AppendRow = {
    sessionId: sql`${p.sessionId}::uuid`, siteIds: sql`${p.siteIds}::text`, sender: sql`${p.sender}::text`, senderName: sql`${p.senderName}::text`,
    text: sql`${p.text}::text`, clientMessageId: sql`${p.clientMessageId}::text`, agentId: sql`${p.agentId}::uuid`, awayMs: sql`${p.awayMs}::int`, batchMs: sql`${p.batchMs}::int`,
  }
  const { ctes, queued } = appendCtes(m, { claimFrom: sql``, claimWhere: sql`s.id = ${m.sessionId}`, insertFrom: sql`claimed c` },
    forwardToTelegram, offlineEmail, withFiles ? attachmentCtes(p) : undefined)
  return sql`
    with ${sql.join(ctes, sql`, `)}
    select ${messageFields('i')}, c.site_id as "siteId", ${queued} as "outboxQueued"
    from inserted i cross join claimed c`
})

type AttachmentCtes = ReturnType<typeof attachmentCtes>

/** Every variant of the append statement, each prepared once when first used. */
const appendStatements = new Map<string, ReturnType<typeof appendStatement>>()
export function appendVariant(telegram: boolean, files: boolean, email: boolean) {
  const key = `${telegram}:${files}:${email}`
  let statement = appendStatements.get(key)
  if (!statement) appendStatements.set(key, (statement = appendStatement(telegram, files, email)))
  return statement
}
