-- Issue 14, item 6: every per-site table (distributed by site_id on Citus, see
-- src/db/distribution.ts and docs/scaling.md) carries site_id, in every primary and unique
-- key, and the foreign keys between them name the site. One migration swaps the keys (the
-- product is before 1.0; migrations run at start-up under an advisory lock, in one
-- transaction). The previous release keeps working beside this one during a rolling upgrade:
-- the unique indexes keep their names (it recognises chat_messages_client_id_uq), nothing it
-- names in ON CONFLICT changes, and its inserts, which name no site_id, get it from the
-- session by the BEFORE INSERT triggers below (a later release drops them).
ALTER TABLE "chat_messages" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "chat_notes" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "chat_attachments" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "chat_attachment_chunks" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "telegram_messages" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "resume_links" ADD COLUMN "site_id" uuid;--> statement-breakpoint
-- A row written without its site (by the previous release) takes its session's; a chunk, its file's.
CREATE FUNCTION site_id_from_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'chat_attachment_chunks' THEN
    SELECT site_id INTO NEW.site_id FROM chat_attachments WHERE id = NEW.attachment_id;
  ELSE
    SELECT site_id INTO NEW.site_id FROM chat_sessions WHERE id = NEW.session_id;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER chat_messages_site_id BEFORE INSERT ON chat_messages FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
CREATE TRIGGER chat_notes_site_id BEFORE INSERT ON chat_notes FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
CREATE TRIGGER chat_attachments_site_id BEFORE INSERT ON chat_attachments FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
CREATE TRIGGER chat_attachment_chunks_site_id BEFORE INSERT ON chat_attachment_chunks FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
CREATE TRIGGER telegram_messages_site_id BEFORE INSERT ON telegram_messages FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
CREATE TRIGGER resume_links_site_id BEFORE INSERT ON resume_links FOR EACH ROW WHEN (NEW.site_id IS NULL) EXECUTE FUNCTION site_id_from_parent();--> statement-breakpoint
-- the rows already there (an upgrade of a database in use, or a restored older backup)
UPDATE "chat_messages" m SET "site_id" = s."site_id" FROM "chat_sessions" s WHERE s."id" = m."session_id";--> statement-breakpoint
UPDATE "chat_notes" n SET "site_id" = s."site_id" FROM "chat_sessions" s WHERE s."id" = n."session_id";--> statement-breakpoint
UPDATE "chat_attachments" a SET "site_id" = s."site_id" FROM "chat_sessions" s WHERE s."id" = a."session_id";--> statement-breakpoint
UPDATE "chat_attachment_chunks" c SET "site_id" = a."site_id" FROM "chat_attachments" a WHERE a."id" = c."attachment_id";--> statement-breakpoint
UPDATE "telegram_messages" t SET "site_id" = s."site_id" FROM "chat_sessions" s WHERE s."id" = t."session_id";--> statement-breakpoint
UPDATE "resume_links" l SET "site_id" = s."site_id" FROM "chat_sessions" s WHERE s."id" = l."session_id";--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "chat_messages" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "chat_notes" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "chat_attachments" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "chat_attachment_chunks" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "telegram_messages" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- contract: the previous release never reads site_id here and its inserts get it from the triggers above
ALTER TABLE "resume_links" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
-- the single-column keys go (their foreign keys first), the keys with site_id come
ALTER TABLE "chat_attachment_chunks" DROP CONSTRAINT "chat_attachment_chunks_attachment_id_chat_attachments_id_fk";--> statement-breakpoint
ALTER TABLE "chat_attachments" DROP CONSTRAINT "chat_attachments_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "chat_attachments" DROP CONSTRAINT "chat_attachments_message_id_chat_messages_id_fk";--> statement-breakpoint
ALTER TABLE "chat_messages" DROP CONSTRAINT "chat_messages_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "chat_notes" DROP CONSTRAINT "chat_notes_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "resume_links" DROP CONSTRAINT "resume_links_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "telegram_messages" DROP CONSTRAINT "telegram_messages_session_id_chat_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "chat_sessions" DROP CONSTRAINT "chat_sessions_pkey";--> statement-breakpoint
ALTER TABLE "chat_messages" DROP CONSTRAINT "chat_messages_pkey";--> statement-breakpoint
ALTER TABLE "chat_notes" DROP CONSTRAINT "chat_notes_pkey";--> statement-breakpoint
ALTER TABLE "chat_attachments" DROP CONSTRAINT "chat_attachments_pkey";--> statement-breakpoint
ALTER TABLE "chat_attachment_chunks" DROP CONSTRAINT "chat_attachment_chunks_attachment_id_n_pk";--> statement-breakpoint
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_pkey";--> statement-breakpoint
ALTER TABLE "telegram_messages" DROP CONSTRAINT "telegram_messages_chat_id_message_id_pk";--> statement-breakpoint
ALTER TABLE "resume_links" DROP CONSTRAINT "resume_links_pkey";--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD CONSTRAINT "chat_sessions_pkey" PRIMARY KEY("id","site_id");--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_pkey" PRIMARY KEY("id","site_id");--> statement-breakpoint
ALTER TABLE "chat_notes" ADD CONSTRAINT "chat_notes_pkey" PRIMARY KEY("id","site_id");--> statement-breakpoint
ALTER TABLE "chat_attachments" ADD CONSTRAINT "chat_attachments_pkey" PRIMARY KEY("id","site_id");--> statement-breakpoint
ALTER TABLE "chat_attachment_chunks" ADD CONSTRAINT "chat_attachment_chunks_pkey" PRIMARY KEY("attachment_id","n","site_id");--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_pkey" PRIMARY KEY("id","site_id");--> statement-breakpoint
ALTER TABLE "telegram_messages" ADD CONSTRAINT "telegram_messages_pkey" PRIMARY KEY("chat_id","message_id","site_id");--> statement-breakpoint
ALTER TABLE "resume_links" ADD CONSTRAINT "resume_links_pkey" PRIMARY KEY("token_hash","site_id");--> statement-breakpoint
-- same names as before: the previous release recognises a duplicate clientMessageId by this one
DROP INDEX "chat_messages_session_seq_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_session_seq_uq" ON "chat_messages" USING btree ("session_id","seq","site_id");--> statement-breakpoint
DROP INDEX "chat_messages_client_id_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_client_id_uq" ON "chat_messages" USING btree ("session_id","client_message_id","site_id");--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_notes" ADD CONSTRAINT "chat_notes_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_attachments" ADD CONSTRAINT "chat_attachments_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_attachments" ADD CONSTRAINT "chat_attachments_message_fk" FOREIGN KEY ("message_id","site_id") REFERENCES "public"."chat_messages"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_attachment_chunks" ADD CONSTRAINT "chat_attachment_chunks_attachment_fk" FOREIGN KEY ("attachment_id","site_id") REFERENCES "public"."chat_attachments"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telegram_messages" ADD CONSTRAINT "telegram_messages_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resume_links" ADD CONSTRAINT "resume_links_session_fk" FOREIGN KEY ("session_id","site_id") REFERENCES "public"."chat_sessions"("id","site_id") ON DELETE cascade ON UPDATE no action;
