/**
 * Canonical row serialisation: the bytes every per-table SHA-256 of a manifest is computed over.
 * It is identical on MySQL/MariaDB and SQLite, so the hash of a table compares across servers.
 *
 * A table's canonical stream is, for every row in primary-key order, the row's tuple followed by
 * a comma: `(v1,v2,…),`. Values:
 *   - NULL                   → NULL
 *   - integer, boolean       → decimal digits (booleans are 0/1 on both databases)
 *   - DECIMAL / float        → the DECIMAL text of MySQL ("12.50"); on SQLite, where knex declares
 *                              DECIMAL columns as `float`, the number with the column's scale
 *                              (2 when the declared type has none: every DECIMAL of the schema is
 *                              money or weight in cents), i.e. the same "cents string"
 *   - DATETIME/DATE/TIME     → quoted 'YYYY-MM-DD HH:MM:SS' (UTC; SQLite epoch numbers and ISO
 *                              strings are normalised to it)
 *   - text                   → quoted, with \ ' NUL LF CR and Ctrl-Z backslash-escaped as mysqldump
 *                              does (\\ \' \0 \n \r \Z): the stock client drops a CR before a LF,
 *                              so raw line ends cannot stay in the file
 *   - binary                 → X'HEX'
 * On MySQL the tuple is built byte by byte from the row packets (`appendCanonicalRow` in
 * engines/mysql/dump.ts) and is also the VALUES tuple written in the backup file; on SQLite
 * `canonicalTuple` builds it in JavaScript.
 */

export type ValueClass = 'integer' | 'decimal' | 'temporal' | 'text' | 'binary';

export interface ColumnInfo {
  name: string;
  /** Declared type as the database reports it (lower case), e.g. "int", "decimal", "varchar(255)". */
  type: string;
  nullable: boolean;
  cls: ValueClass;
  /** Digits after the point for decimal columns (MySQL: numeric_scale; SQLite: from the type or 2). */
  scale: number;
}

const MYSQL_INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year']);
const MYSQL_DECIMAL = new Set(['decimal', 'numeric', 'float', 'double', 'real']);
const MYSQL_TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time']);
const MYSQL_BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'geometry', 'point', 'linestring', 'polygon']);

/** Class of a MySQL column from information_schema.columns.data_type. */
export function mysqlValueClass(dataType: string): ValueClass {
  const t = dataType.toLowerCase();
  if (MYSQL_INTEGER.has(t)) return 'integer';
  if (MYSQL_DECIMAL.has(t)) return 'decimal';
  if (MYSQL_TEMPORAL.has(t)) return 'temporal';
  if (MYSQL_BINARY.has(t)) return 'binary';
  return 'text';
}

/** Class of a SQLite column from its declared type (the affinity rules, plus dates and decimals). */
export function sqliteValueClass(declared: string): { cls: ValueClass; scale: number } {
  const t = declared.toLowerCase();
  if (/int|bool/.test(t)) return { cls: 'integer', scale: 0 };
  if (/date|time/.test(t)) return { cls: 'temporal', scale: 0 };
  if (/char|clob|text|json|enum/.test(t)) return { cls: 'text', scale: 0 };
  if (/blob|binary/.test(t)) return { cls: 'binary', scale: 0 };
  const dec = /(?:dec|numeric)\w*\s*\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(t);
  if (dec) return { cls: 'decimal', scale: Number(dec[1]) };
  if (/real|floa|doub|dec|numeric/.test(t)) return { cls: 'decimal', scale: 2 };
  return { cls: 'text', scale: 0 };
}

// Backslash, quote, NUL, LF, CR and Ctrl-Z: what mysqldump escapes (except ", harmless).
const QUOTE_CHARS = "[\\\\'\\u0000\\n\\r\\u001a]";
const QUOTE_RE = new RegExp(QUOTE_CHARS);
const QUOTE_RE_G = new RegExp(QUOTE_CHARS, 'g');
const QUOTE_MAP: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' };

/** A MySQL string literal of `s`, escaped as the canonical form (and mysqldump) does. */
export function mysqlQuote(s: string): string {
  return QUOTE_RE.test(s) ? `'${s.replace(QUOTE_RE_G, (c) => QUOTE_MAP[c]!)}'` : `'${s}'`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Any stored time (epoch ms, ISO string, 'YYYY-MM-DD HH:MM:SS') → 'YYYY-MM-DD HH:MM:SS' UTC. */
export function canonicalTime(v: unknown): string {
  if (typeof v === 'string') {
    if (/^\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d(\.\d+)?)?$/.test(v) || /^\d\d:\d\d:\d\d$/.test(v)) return v;
    const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
    if (Number.isNaN(d.getTime())) return v;
    return formatUtc(d);
  }
  if (typeof v === 'number' || typeof v === 'bigint') return formatUtc(new Date(Number(v)));
  if (v instanceof Date) return formatUtc(v);
  return String(v);
}

function formatUtc(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** One value as it appears in a canonical tuple (SQLite side; MySQL builds it in SQL). */
export function canonicalValue(v: unknown, col: ColumnInfo): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
  switch (col.cls) {
    case 'integer':
      if (typeof v === 'number' || typeof v === 'bigint') return String(v);
      if (typeof v === 'boolean') return v ? '1' : '0';
      return mysqlQuote(String(v));
    case 'decimal':
      if (typeof v === 'number') return v.toFixed(col.scale);
      if (typeof v === 'bigint') return col.scale > 0 ? `${v}.${'0'.repeat(col.scale)}` : String(v);
      if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v).toFixed(col.scale);
      return mysqlQuote(String(v));
    case 'temporal':
      return mysqlQuote(canonicalTime(v));
    default:
      return mysqlQuote(typeof v === 'string' ? v : String(v));
  }
}

export function canonicalTuple(row: readonly unknown[], cols: readonly ColumnInfo[]): string {
  let s = '(';
  for (let i = 0; i < cols.length; i++) {
    if (i > 0) s += ',';
    s += canonicalValue(row[i], cols[i]!);
  }
  return s + ')';
}

/** SQLite literal of a value, exact (the SQLite backup file is written with these). */
export function sqliteLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return v > 0 ? '9e999' : v < 0 ? '-9e999' : 'NULL';
    // Shortest text that reads back as the same double.
    const s = String(v);
    return /[.eE]/.test(s) ? s : `${s}.0`;
  }
  if (typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
  const s = String(v);
  // One statement per line: newlines and NUL are spliced in with char() like sqlite3's .dump.
  if (!/[\n\r\0']/.test(s)) return `'${s}'`;
  let out = "'";
  for (const ch of s) {
    if (ch === "'") out += "''";
    else if (ch === '\n') out += "'||char(10)||'";
    else if (ch === '\r') out += "'||char(13)||'";
    else if (ch === '\0') out += "'||char(0)||'";
    else out += ch;
  }
  return out + "'";
}
