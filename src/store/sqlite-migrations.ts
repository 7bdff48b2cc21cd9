// Versioned schema of the SQLite store. Migrations run on open, in order, each in its own
// transaction, and `PRAGMA user_version` records the last one applied. Append only: never edit
// a migration that has shipped.
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT,
    admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    topic TEXT NOT NULL,
    private INTEGER NOT NULL,
    owner TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    members_version INTEGER NOT NULL DEFAULT 1,
    messages_version INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE members (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user)
  ) WITHOUT ROWID;
  CREATE INDEX members_by_user ON members(user, room_id);
  CREATE TABLE messages (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT,
    via TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (room_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE idempotency_keys (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
  `,
  // 2: names of deleted users, never given out again (their messages stay under the name).
  `
  CREATE TABLE deleted_users (name TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL) WITHOUT ROWID;
  `,
];
