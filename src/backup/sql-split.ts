/**
 * Streaming SQL statement splitter for dump files (ours and stock mysqldump/mariadb-dump or
 * sqlite3 .dump files): splits on `;` outside strings, identifiers and comments, byte by byte,
 * without decoding text. Statements come out as Buffers without the final `;`.
 * MySQL dialect: '…' and "…" strings with backslash escapes, `…` identifiers, -- and # line
 * comments, /* … *\/ comments (the /*! … *\/ executable ones stay part of the statement).
 * SQLite dialect: no backslash escapes, [ … ] identifiers too.
 */

export type Dialect = 'mysql' | 'sqlite';

const SEMI = 0x3b;
const SQ = 0x27;
const DQ = 0x22;
const BT = 0x60;
const BS = 0x5c;
const DASH = 0x2d;
const HASH = 0x23;
const SLASH = 0x2f;
const STAR = 0x2a;
const NL = 0x0a;
const LB = 0x5b;
const RB = 0x5d;

const enum S {
  Normal,
  Single,
  Double,
  Backtick,
  Bracket,
  LineComment,
  BlockComment,
}

export async function* splitStatements(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>, dialect: Dialect = 'mysql'): AsyncGenerator<Buffer> {
  const escapes = dialect === 'mysql';
  let state: S = S.Normal;
  let parts: Buffer[] = [];
  let prev = -1; // previous byte (for -- and /* detection across chunk borders)
  let escaped = false;
  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      switch (state) {
        case S.Normal:
          if (c === SEMI) {
            parts.push(chunk.subarray(start, i));
            const stmt = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
            parts = [];
            start = i + 1;
            if (hasContent(stmt)) yield stmt;
          } else if (c === SQ) state = S.Single;
          else if (c === DQ) state = S.Double;
          else if (c === BT) state = S.Backtick;
          else if (c === LB && dialect === 'sqlite') state = S.Bracket;
          else if (c === HASH && dialect === 'mysql') state = S.LineComment;
          else if (c === DASH && prev === DASH) state = S.LineComment;
          else if (c === STAR && prev === SLASH) state = S.BlockComment;
          break;
        case S.Single:
        case S.Double:
          if (escaped) escaped = false;
          else if (c === BS && escapes) escaped = true;
          else if (c === (state === S.Single ? SQ : DQ)) state = S.Normal;
          break;
        case S.Backtick:
          if (c === BT) state = S.Normal;
          break;
        case S.Bracket:
          if (c === RB) state = S.Normal;
          break;
        case S.LineComment:
          if (c === NL) state = S.Normal;
          break;
        case S.BlockComment:
          if (c === SLASH && prev === STAR) {
            state = S.Normal;
            prev = -1;
            continue;
          }
          break;
      }
      // A `--` that closed a comment must not combine with the next dash; same for `*/`.
      prev = state === S.LineComment && c === DASH && prev === DASH ? -1 : c;
    }
    if (start < chunk.length) parts.push(Buffer.from(chunk.subarray(start)));
  }
  if (parts.length) {
    const stmt = Buffer.concat(parts);
    if (hasContent(stmt)) yield stmt;
  }
}

/** Anything but whitespace and comments? */
function hasContent(b: Buffer): boolean {
  return stripLeadingComments(b.toString('utf8', 0, Math.min(b.length, 4096))).length > 0 || b.length > 4096;
}

/** Drops leading whitespace and comments (-- … , # … , /* … *\/ but not /*! … *\/). */
export function stripLeadingComments(s: string): string {
  let t = s;
  for (;;) {
    const before = t;
    t = t.replace(/^\s+/, '');
    if (t.startsWith('--') || t.startsWith('#')) {
      const nl = t.indexOf('\n');
      t = nl < 0 ? '' : t.slice(nl + 1);
    } else if ((t.startsWith('/*') && !t.startsWith('/*!') && !t.startsWith('/*M!')) || t.startsWith('/*M!999999\\-')) {
      // Plain comments, and mariadb-dump's "enable the sandbox mode" line (a client directive).
      const end = t.indexOf('*/');
      t = end < 0 ? '' : t.slice(end + 2);
    }
    if (t === before) return t;
  }
}

export type StatementKind =
  | { kind: 'set' }
  | { kind: 'drop-table'; table: string }
  | { kind: 'create-table'; table: string }
  | { kind: 'insert'; table: string; plain: boolean }
  | { kind: 'skip' }
  | { kind: 'use' }
  | { kind: 'create-database' }
  | { kind: 'delimiter' }
  | { kind: 'unsupported'; what: string };

const IDENT = '(?:`((?:[^`]|``)+)`|"((?:[^"]|"")+)"|\\[([^\\]]+)\\]|([A-Za-z0-9_$]+))';

function identFrom(m: RegExpExecArray, first: number): string {
  const v = m[first] ?? m[first + 1] ?? m[first + 2] ?? m[first + 3] ?? '';
  return v.replace(/``/g, '`').replace(/""/g, '"');
}

/**
 * What a dump statement does. `/*!40101 SET … *\/` counts as SET; a versioned CREATE (views,
 * triggers) as unsupported. `plain` inserts are `INSERT INTO `t` VALUES (…),…` (no column list).
 */
export function classifyStatement(stmt: Buffer | string): StatementKind {
  const head = typeof stmt === 'string' ? stmt.slice(0, 600) : stmt.toString('utf8', 0, Math.min(stmt.length, 600));
  let s = stripLeadingComments(head);
  const exec = /^\/\*M?!\d*\s*/.exec(s);
  if (exec) {
    s = s.slice(exec[0].length);
    if (/^SET\s+(@@GLOBAL\.|GLOBAL\s)/i.test(s)) return { kind: 'skip' };
    if (/^SET\s/i.test(s)) return { kind: 'set' };
    if (/^ALTER\s+TABLE\s+\S+\s+(DISABLE|ENABLE)\s+KEYS/i.test(s)) return { kind: 'skip' };
    if (/^CREATE\s+DATABASE/i.test(s)) return { kind: 'create-database' };
    return { kind: 'unsupported', what: s.slice(0, 60).replace(/\s+/g, ' ') };
  }
  // Server-wide settings of a dump (GTID_PURGED…) are not the restore's business.
  if (/^SET\s+(@@GLOBAL\.|GLOBAL\s)/i.test(s)) return { kind: 'skip' };
  if (/^SET\s/i.test(s)) return { kind: 'set' };
  // Transaction boundaries run as they are (mysqldump --no-autocommit wraps tables in them).
  if (/^(COMMIT|START\s+TRANSACTION)\b/i.test(s) || /^BEGIN\s*$/i.test(s)) return { kind: 'set' };
  if (/^(LOCK\s+TABLES|UNLOCK\s+TABLES|PRAGMA\s|ANALYZE\b)/i.test(s)) return { kind: 'skip' };
  if (/^(BEGIN\s+TRANSACTION|END\s+TRANSACTION)/i.test(s)) return { kind: 'skip' };
  if (/^USE\s/i.test(s)) return { kind: 'use' };
  if (/^CREATE\s+(DATABASE|SCHEMA)\b/i.test(s)) return { kind: 'create-database' };
  if (/^DELIMITER\s/i.test(s)) return { kind: 'delimiter' };
  let m = new RegExp(`^DROP\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}`, 'i').exec(s);
  if (m) return { kind: 'drop-table', table: identFrom(m, 1) };
  m = new RegExp(`^CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}`, 'i').exec(s);
  if (m) return { kind: 'create-table', table: identFrom(m, 1) };
  m = new RegExp(`^INSERT\\s+INTO\\s+${IDENT}\\s*(VALUES\\b|\\()`, 'i').exec(s);
  if (m) return { kind: 'insert', table: identFrom(m, 1), plain: /^VALUES/i.test(m[5]!) };
  if (/^(INSERT|REPLACE)\s/i.test(s)) {
    const t = new RegExp(`^(?:INSERT|REPLACE)\\s+(?:IGNORE\\s+)?(?:INTO\\s+)?${IDENT}`, 'i').exec(s);
    return { kind: 'insert', table: t ? identFrom(t, 1) : '', plain: false };
  }
  if (/^DELETE\s+FROM\s+sqlite_sequence/i.test(s)) return { kind: 'set' };
  if (/^CREATE\s+(UNIQUE\s+)?INDEX\s/i.test(s)) return { kind: 'set' };
  return { kind: 'unsupported', what: s.slice(0, 60).replace(/\s+/g, ' ') };
}
