-- Issue 14, item 2: every send updates its session's row (last_seq, last_message_at, unread
-- count, ...). An index on last_message_at made each of these updates a non-HOT one: a new
-- entry in every one of chat_sessions' twelve indexes (two of them GIN), about 1 KB of WAL per
-- send (bench, pg_current_wal_lsn over 2,000 sends). Without it the update is HOT. The staff
-- list sorts by activity without it (it counts every matching session anyway); the realtime
-- sweep finds recent activity through chat_messages_created_idx (recentlyActiveSessions).
-- contract: the previous release's sweep and staff list still get their answers, by a scan of chat_sessions: slower for the length of the upgrade
DROP INDEX "chat_sessions_activity_idx";
--> statement-breakpoint
-- A HOT update needs room on the row's page for the new version; a page filled to the brim by
-- inserts has none, and its first update moves the row (with new index entries) instead.
-- Existing pages keep their fill until rewritten; new rows get the room.
ALTER TABLE "chat_sessions" SET (fillfactor = 85);
