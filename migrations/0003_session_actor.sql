-- Backend API sessions: the actor (`act` claim, impersonation) given at creation, a JSON
-- object of at most 512 bytes, put into every token minted for the session.
ALTER TABLE sessions ADD COLUMN actor TEXT
  CHECK (actor IS NULL OR (json_valid(actor) AND json_type(actor) = 'object'
                           AND length(CAST(actor AS BLOB)) <= 512));
