-- Issue 14: what each outbox row costs the send that writes it (two rows per visitor message
-- with a webhook and Telegram). The key to the session went the way of 0009's keys: its check
-- ran once per row (an index probe and a FOR KEY SHARE on the session row the send already
-- holds). What its cascade did is done by this release's code: erasure deletes the sessions'
-- rows in its transaction, the worker drops a due row whose session is gone, and the retention
-- job deletes any row whose session is gone.
-- contract: the previous release never relies on the key to refuse a row (it writes session_id from the session row its statement holds); a session it erases during the upgrade leaves its rows, which this release's worker drops when they come due and its retention job deletes (delivered or not)
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_session_fk";
--> statement-breakpoint
-- /metrics counted pending and failed rows through an index that every send wrote twice; the
-- pending rows are in outbox_due_idx already, and the failed ones get an index of their own,
-- which no send writes.
-- contract: the previous release's /metrics count (status <> 'done') still gets its answer, by a scan of the table: a slower scrape for the length of the upgrade
DROP INDEX "outbox_undelivered_idx";--> statement-breakpoint
CREATE INDEX "outbox_failed_idx" ON "outbox" USING btree ("status") WHERE status = 'failed';
--> statement-breakpoint
-- Every send looks up its site's webhooks; without an index that is a scan of every site's
-- (with 1,000 webhooks of 500 other sites: 0.17 ms more Postgres CPU per send).
CREATE INDEX "webhooks_site_idx" ON "webhooks" USING btree ("site_id");
