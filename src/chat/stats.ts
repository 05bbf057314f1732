import { sql } from 'drizzle-orm'
import type { Executor } from '../db/client.js'
import { scopeCondition, type SiteScope } from './visibility.js'

export type Stats = {
  totalSessions: number
  openSessions: number
  closedSessions: number
  sessionsToday: number
  totalMessages: number
  visitorMessages: number
  agentMessages: number
  botMessages: number
  unansweredSessions: number
  avgFirstResponseSeconds: number | null
  medianFirstResponseSeconds: number | null
  sessionsPerDay: { date: string; count: number }[]
  /** mean of the ratings given in the range (2 decimals), null without any */
  csatAverage: number | null
  csatCount: number
  csatDistribution: Record<'1' | '2' | '3' | '4' | '5', number>
}

const DAY_MS = 86_400_000
export const DEFAULT_CHART_DAYS = 30
export const MAX_CHART_DAYS = 366

/**
 * Figures for sessions created in [from, to) and messages sent in it (UTC days), over the
 * sites of `scope` (what the caller sees, chat/visibility.ts). First response = first agent
 * reply minus the visitor's first message; bot replies do not count.
 */
export async function getStats(db: Executor, range: { from?: Date; to?: Date }, scope: SiteScope = null, now = new Date()): Promise<Stats> {
  const visible = (siteColumn: string) => scopeCondition(scope, sql.raw(siteColumn))
  // raw sql params: pass text (drizzle turns off postgres.js's Date serialiser)
  const from = range.from?.toISOString() ?? null
  const to = range.to?.toISOString() ?? null
  // only the bounds that are given, as plain range conditions: `$1 is null or col >= $1` would
  // keep a cached generic plan from using the created_at indexes
  const inRange = (col: string) => sql.join([
    sql`true`,
    ...(from === null ? [] : [sql`${sql.raw(col)} >= ${from}::timestamptz`]),
    ...(to === null ? [] : [sql`${sql.raw(col)} < ${to}::timestamptz`]),
  ], sql` and `)
  const [s] = await db.execute<{
    total: number; open: number; closed: number; today: number; unanswered: number; avg: number | null; median: number | null
  }>(sql`
    with s as (select * from chat_sessions where ${inRange('created_at')} and ${visible('site_id')}),
    fr as (
      select extract(epoch from (s.first_response_at - v.first_at))::float8 as secs
      from s cross join lateral (select min(created_at) as first_at from chat_messages m where m.session_id = s.id and m.sender = 'visitor') v
      where s.first_response_at is not null and v.first_at is not null and s.first_response_at >= v.first_at
    )
    select
      (select count(*)::int from s) as total,
      (select count(*)::int from s where status = 'open') as open,
      (select count(*)::int from s where status = 'closed') as closed,
      (select count(*)::int from chat_sessions where created_at >= date_trunc('day', ${now.toISOString()}::timestamptz at time zone 'UTC') at time zone 'UTC' and ${visible('site_id')}) as today,
      (select count(*)::int from s where last_visitor_message_at is not null and first_response_at is null) as unanswered,
      (select avg(secs)::float8 from fr) as avg,
      (select percentile_cont(0.5) within group (order by secs)::float8 from fr) as median`)
  const [m] = await db.execute<{ total: number; visitor: number; agent: number; bot: number }>(sql`
    select count(*)::int as total,
      count(*) filter (where sender = 'visitor')::int as visitor,
      count(*) filter (where sender = 'agent')::int as agent,
      count(*) filter (where sender = 'bot')::int as bot
    from chat_messages where ${inRange('created_at')}
      ${scope === null ? sql`` : sql`and session_id in (select id from chat_sessions where ${visible('site_id')})`}`)
  // ratings count when they were given (a chat of last month rated today is today's CSAT)
  const [r] = await db.execute<{ n: number; avg: number | null; s1: number; s2: number; s3: number; s4: number; s5: number }>(sql`
    select count(*)::int as n, avg(rating_score)::float8 as avg,
      ${sql.raw([1, 2, 3, 4, 5].map((k) => `count(*) filter (where rating_score = ${k})::int as s${k}`).join(', '))}
    from chat_sessions where rated_at is not null and ${inRange('rated_at')}${scope === null ? sql`` : sql` and ${visible('site_id')}`}`)
  const chartTo = range.to ?? now
  const chartFrom = new Date(Math.max(range.from?.getTime() ?? chartTo.getTime() - (DEFAULT_CHART_DAYS - 1) * DAY_MS, chartTo.getTime() - (MAX_CHART_DAYS - 1) * DAY_MS))
  const days = await db.execute<{ date: string; count: number }>(sql`
    select to_char(d, 'YYYY-MM-DD') as date, count(c.id)::int as count
    from generate_series(date_trunc('day', ${chartFrom.toISOString()}::timestamptz at time zone 'UTC'),
                         date_trunc('day', ${new Date(chartTo.getTime() - 1).toISOString()}::timestamptz at time zone 'UTC'), interval '1 day') d
    left join chat_sessions c on (c.created_at at time zone 'UTC') >= d and (c.created_at at time zone 'UTC') < d + interval '1 day'
      and ${inRange('c.created_at')} and ${visible('c.site_id')}
    group by d order by d`)
  const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x * 10) / 10)
  return {
    totalSessions: s?.total ?? 0,
    openSessions: s?.open ?? 0,
    closedSessions: s?.closed ?? 0,
    sessionsToday: s?.today ?? 0,
    totalMessages: m?.total ?? 0,
    visitorMessages: m?.visitor ?? 0,
    agentMessages: m?.agent ?? 0,
    botMessages: m?.bot ?? 0,
    unansweredSessions: s?.unanswered ?? 0,
    avgFirstResponseSeconds: round(s?.avg),
    medianFirstResponseSeconds: round(s?.median),
    sessionsPerDay: [...days].map((d) => ({ date: d.date, count: d.count })),
    csatAverage: r?.avg === null || r?.avg === undefined ? null : Math.round(r.avg * 100) / 100,
    csatCount: r?.n ?? 0,
    csatDistribution: { 1: r?.s1 ?? 0, 2: r?.s2 ?? 0, 3: r?.s3 ?? 0, 4: r?.s4 ?? 0, 5: r?.s5 ?? 0 },
  }
}
