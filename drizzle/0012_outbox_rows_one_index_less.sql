-- Issue 14, item 2: each outbox row a send writes (two per visitor message with a webhook and
-- Telegram) went into three indexes. outbox_site_idx (site_id, created_at) served erasure's
-- delete of a session's rows (by scanning every row of the site) and the rare per-site outbox
-- listing; a session's pending rows are in outbox_due_idx already, and its delivered or failed
-- ones get an index that only the worker's mark as done writes (that update writes new index
-- entries anyway: status is in the partial indexes' predicates), so a send writes one fewer.
-- contract: the previous release's erasure still finds a session's rows, by a scan of the outbox: a slower erasure for the length of the upgrade
DROP INDEX "outbox_site_idx";
--> statement-breakpoint
CREATE INDEX "outbox_session_finished_idx" ON "outbox" USING btree ("site_id","session_id") WHERE status <> 'pending';
