CREATE INDEX "outbox_finished_idx" ON "outbox" USING btree ("done_at") WHERE status <> 'pending';--> statement-breakpoint
CREATE INDEX "outbox_undelivered_idx" ON "outbox" USING btree ("status") WHERE status <> 'done';--> statement-breakpoint
CREATE INDEX "telegram_messages_created_idx" ON "telegram_messages" USING btree ("created_at");