-- The change feed behind live job status (Server-Sent Events): one
-- notification per statement that records task transitions or final job
-- statuses, and one per ended session or revoked API token, so every process
-- can end the streams that credential opened. Payloads carry no secrets: a
-- session is named by the SHA-256 of its CSRF token.
CREATE FUNCTION prasaran_notify_task_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('prasaran_task_changes', '');
    RETURN NULL;
END $$;

CREATE TRIGGER publish_task_events_changed AFTER INSERT ON publish_task_events
    FOR EACH STATEMENT EXECUTE FUNCTION prasaran_notify_task_changes();
CREATE TRIGGER publish_jobs_status_changed AFTER UPDATE OF status ON publish_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION prasaran_notify_task_changes();

CREATE FUNCTION prasaran_notify_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- actix-session keeps each value JSON-encoded: the token is a quoted string.
    PERFORM pg_notify('prasaran_credentials_ended',
        'session:' || encode(sha256(convert_to(btrim(coalesce(OLD.state ->> 'csrf_token', ''), '"'), 'UTF8')), 'hex'));
    RETURN NULL;
END $$;

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION prasaran_notify_session_ended();

CREATE FUNCTION prasaran_notify_token_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('prasaran_credentials_ended', 'token:' || NEW.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER api_tokens_revoked AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION prasaran_notify_token_revoked();
