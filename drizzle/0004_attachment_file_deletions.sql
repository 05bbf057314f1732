-- Every way an attachment row goes (a session erased, a site deleted, an unsent upload swept)
-- queues the S3 object behind it for deletion; files kept in Postgres go with their chunks.
CREATE FUNCTION chat_attachments_queue_file_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.storage <> 'postgres' THEN
    INSERT INTO file_deletions (storage, key) VALUES (OLD.storage, OLD.id::text);
  END IF;
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER chat_attachments_queue_file_deletion AFTER DELETE ON chat_attachments
  FOR EACH ROW EXECUTE FUNCTION chat_attachments_queue_file_deletion();
