-- guard's tables, created in the schema the store was configured with (`guard` by default),
-- which is the connections' search path. Times are Unix seconds.

-- Every change to a key, a user or an issued credential takes the next number: followers ask
-- for the changes after the last number they applied. Writers of one aggregate take turns
-- (a transaction-scoped advisory lock), so numbers are committed in the order they are
-- given, and a follower never skips a number that commits late.
CREATE SEQUENCE changes;

CREATE TABLE api_keys (
    id          text COLLATE "C" PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    name        text NOT NULL,
    owner       text,
    roles       text[] NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint,
    revoked     boolean NOT NULL
);

CREATE TABLE users (
    id          text COLLATE "C" PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    name        text NOT NULL,
    normalized  text NOT NULL,
    password    text NOT NULL,
    roles       text[] NOT NULL,
    disabled    boolean NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    generation  bigint NOT NULL,
    CONSTRAINT users_name_unique UNIQUE (normalized)
);

-- Sessions and bearer tokens, their kind by the code their usage is recorded under (2
-- session, 3 token).
CREATE TABLE issued (
    id                text COLLATE "C" PRIMARY KEY,
    seq               bigint NOT NULL UNIQUE,
    kind              smallint NOT NULL,
    hash              bytea NOT NULL CHECK (length(hash) = 32),
    user_id           text NOT NULL,
    user_generation   bigint NOT NULL,
    created_at        bigint NOT NULL,
    authenticated_at  bigint NOT NULL,
    expires_at        bigint NOT NULL,
    idle_timeout      bigint,
    revoked           boolean NOT NULL,
    last_seen_at      bigint
);
CREATE INDEX issued_by_user ON issued (user_id);
CREATE INDEX issued_by_expiry ON issued (expires_at);

-- Deleted keys (aggregate 1), users (2) and issued credentials (3), so that followers learn
-- of the deletion. An issued credential's is kept until a day after it would have expired
-- (`kept_until`: a follower that missed the deletion has dropped it by itself by then); the
-- others' for good.
CREATE TABLE deletions (
    aggregate   smallint NOT NULL,
    id          text NOT NULL,
    seq         bigint NOT NULL UNIQUE,
    kept_until  bigint,
    PRIMARY KEY (aggregate, id)
);
CREATE INDEX deletions_in_order ON deletions (aggregate, seq);

-- Usage, by credential kind (1 API key, 2 session, 3 token) and id. Counters and rollups
-- are added to, never overwritten, so that every instance adds its own. Ids compare as bytes
-- ("C"), so that counters are read in pages by id along the primary key.
CREATE TABLE usage_counters (
    kind          smallint NOT NULL,
    id            text COLLATE "C" NOT NULL,
    uses          bigint NOT NULL,
    last_used_at  bigint,
    PRIMARY KEY (kind, id)
);

CREATE TABLE usage_rollups (
    kind     smallint NOT NULL,
    id       text NOT NULL,
    minute   bigint NOT NULL,
    route    text NOT NULL,
    method   smallint NOT NULL,
    outcome  smallint NOT NULL,
    count    bigint NOT NULL,
    PRIMARY KEY (kind, id, minute, route, method, outcome)
);
CREATE INDEX usage_rollups_by_minute ON usage_rollups (minute);

-- The last requests of each credential, newest by time (then by the instance's count).
CREATE TABLE usage_recent (
    row_id   bigserial PRIMARY KEY,
    kind     smallint NOT NULL,
    id       text NOT NULL,
    n        bigint NOT NULL,
    at       bigint NOT NULL,
    method   smallint NOT NULL,
    outcome  smallint NOT NULL,
    route    text NOT NULL
);
CREATE INDEX usage_recent_newest ON usage_recent (kind, id, at DESC, n DESC);

CREATE TABLE meta (
    name   text PRIMARY KEY,
    value  bytea NOT NULL
);

-- Login throttling, shared by every instance.
CREATE TABLE throttle_failures (
    key            text COLLATE "C" PRIMARY KEY,
    failures       integer NOT NULL,
    blocked_until  bigint NOT NULL,
    last           bigint NOT NULL
);
CREATE INDEX throttle_failures_by_last ON throttle_failures (last);

CREATE TABLE throttle_known (
    user_id  text NOT NULL,
    address  text NOT NULL,
    seen_at  bigint NOT NULL,
    PRIMARY KEY (user_id, address)
);
