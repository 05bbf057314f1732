-- The realtime sweep catches up sessions closed in its window whose close event was lost
-- (recentlyActiveSessions). chat_sessions_closed_idx leads with site_id; this one finds the
-- recent closes of every site. A close writes indexed columns anyway (status is in partial
-- indexes' predicates), and a send sets neither column, so sends stay HOT (migration 0011).
CREATE INDEX "chat_sessions_recently_closed_idx" ON "chat_sessions" USING btree ("closed_at") WHERE status = 'closed';
