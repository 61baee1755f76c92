-- Rate limits: a key, and a user (for its sessions, tokens and password together), may carry
-- one; both numbers or neither. Columns an older instance does not name keep their value
-- through its updates, so instances of the previous version can serve beside this one.
ALTER TABLE api_keys
    ADD COLUMN rate_requests     integer,
    ADD COLUMN rate_per_seconds  integer,
    ADD CONSTRAINT api_keys_rate_limit CHECK ((rate_requests IS NULL) = (rate_per_seconds IS NULL));

ALTER TABLE users
    ADD COLUMN rate_requests     integer,
    ADD COLUMN rate_per_seconds  integer,
    ADD CONSTRAINT users_rate_limit CHECK ((rate_requests IS NULL) = (rate_per_seconds IS NULL));

-- Marks every instance moves, by name: a rate-limited credential's (`k:<key id>`,
-- `u:<user id>`) theoretical arrival time in Unix nanoseconds, moved by what each instance
-- admitted, so that the others count it too.
CREATE TABLE marks (
    name  text COLLATE "C" PRIMARY KEY,
    mark  bigint NOT NULL
);
