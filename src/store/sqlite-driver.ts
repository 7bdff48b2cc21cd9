// Which build of better-sqlite3 this Node.js loads. Node 24.19 and later abort a process when
// an addon built on the old node::ObjectWrap frees an object after the environment is gone
// (nodejs/node#65446); better-sqlite3 13 is built on Node-API and is immune, but it needs Node
// 22 and crashes on 20. So 22 and later load 13 and Node 20 loads 12, installed beside it under
// the alias better-sqlite3-node20. Both have the same API.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);

/** The better-sqlite3 package for this Node.js: 13 on 22 and later, 12 on 20. */
export const SQLITE_PACKAGE = major >= 22 ? 'better-sqlite3' : 'better-sqlite3-node20';

export const Database = require(SQLITE_PACKAGE) as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
