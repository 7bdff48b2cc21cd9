// Versioned schema of the PostgreSQL store, the same shape as SQLite's. Migrations run on open
// under an advisory lock (several nodes may start at once), each in its own transaction, and
// `porthouse_schema` records the last one applied. Append only: never edit one that has shipped.
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT,
    admin BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE rooms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    topic TEXT NOT NULL,
    private BOOLEAN NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    members_version INTEGER NOT NULL DEFAULT 1,
    messages_version INTEGER NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE members (
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    "user" TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, "user")
  );
  CREATE INDEX members_by_user ON members("user", room_id);
  CREATE TABLE messages (
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT,
    via TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted BOOLEAN NOT NULL DEFAULT false,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (room_id, seq)
  );
  CREATE TABLE idempotency_keys (
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    "user" TEXT NOT NULL,
    key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    text_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, "user", key)
  );
  CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
  `,
  // 2: names of deleted users, never given out again (their messages stay under the name).
  `
  CREATE TABLE deleted_users (name TEXT PRIMARY KEY, deleted_at BIGINT NOT NULL);
  `,
  // 3: messages and idempotency keys no longer reference rooms by a foreign key. Its check ran a
  // query per inserted row (two per message) under a room lock the appends hold anyway; a room's
  // deletion removes them itself, under the same lock.
  `
  ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_room_id_fkey;
  ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_room_id_fkey;
  `,
];
