-- Issue 14, item 2: an outbox row's foreign keys to sites and webhooks took a FOR KEY SHARE
-- lock on the site's one row and the webhook's one row at every send; concurrent sends of a
-- site made MultiXacts of them (bench/send.ts). The keys go; what their cascades did is done
-- by this release's code: deleting a webhook deletes its rows in the same statement, and the
-- worker drops a due row whose site or webhook is gone (sites are never deleted; a session's
-- rows still go with it by outbox_session_fk).
-- contract: the previous release never relies on these keys to refuse a row (it writes site_id and webhook_id from rows it has just read); a webhook it deletes during the upgrade leaves its queued rows (its own worker retries them and finds no webhook), which this release's worker drops when they come due
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_site_id_sites_id_fk";
--> statement-breakpoint
-- contract: as above
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_webhook_id_webhooks_id_fk";
