-- ATProto OAuth binds tokens to a key (DPoP): a connection keeps its key
-- sealed like its tokens, and a pending authorization the key it began with.
ALTER TABLE platform_connections ADD COLUMN proof_key jsonb;
ALTER TABLE oauth_states ADD COLUMN proof_key jsonb;
