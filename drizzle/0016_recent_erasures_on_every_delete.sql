-- Every way a session row goes (erased, or with its site: a site deleted in the database,
-- whose sessions go by cascade and no app event) is recorded for the realtime sweep, which
-- then closes the session's widget sockets and drops it from dashboards. Erasure inserted the
-- row itself until now; a previous release still does during a rolling upgrade, hence DO NOTHING.
CREATE FUNCTION chat_sessions_record_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO recent_erasures (site_id, session_id) VALUES (OLD.site_id, OLD.id) ON CONFLICT DO NOTHING;
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER chat_sessions_record_erasure AFTER DELETE ON chat_sessions
  FOR EACH ROW EXECUTE FUNCTION chat_sessions_record_erasure();
