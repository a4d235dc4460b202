/**
 * PostgreSQL's COPY text format → the canonical row form (src/backup/canonical.ts), byte by byte.
 *
 * A backup streams `COPY (SELECT … ORDER BY pk) TO STDOUT` into the file unchanged (psql loads it
 * back with `COPY … FROM stdin`), and the same bytes go through this transcoder into the table's
 * SHA-256; a restore and `verify --deep` read the loaded table back the same way. The COPY text
 * the server writes is regular: one row per line, fields separated by a tab, `\N` for NULL,
 * and inside values only `\\ \b \f \n \r \t \v` escapes (COPY TO never writes octal or hex ones),
 * so every newline byte ends a row. Per column class:
 *   integer        digits as written
 *   boolean        t/f → 1/0 (MySQL and SQLite store booleans as 0/1)
 *   decimal        NUMERIC text as written ("12.50": the column's scale, as MySQL's DECIMAL)
 *   temporal       quoted; a timestamptz written in UTC loses its "+00" (the session is in UTC)
 *   text           quoted and escaped as mysqldump does (\\ \' \0 \n \r \Z), other bytes raw
 *   binary         bytea's hex output (`\\x…` in COPY text) → X'HEX' in upper case
 */
import type { ValueClass } from '../../canonical.js';
import { ChunkBuilder } from '../../gzip-pool.js';

export const enum PgCls {
  Number = 0,
  Bool = 1,
  Temporal = 2,
  TemporalTz = 3,
  Text = 4,
  Binary = 5,
}

/** The column's class for hashing, from pg_type's name (format_type's first word is enough). */
export function pgValueClass(typeName: string): { cls: ValueClass; code: PgCls } {
  const t = typeName.toLowerCase();
  if (t === 'boolean' || t === 'bool') return { cls: 'integer', code: PgCls.Bool };
  if (/^(smallint|integer|bigint|int2|int4|int8|oid)$/.test(t)) return { cls: 'integer', code: PgCls.Number };
  if (/^(numeric|decimal|real|double precision|float4|float8|money)/.test(t)) return { cls: 'decimal', code: PgCls.Number };
  if (/^timestamp(\(\d\))? with time zone$|^timestamptz/.test(t)) return { cls: 'temporal', code: PgCls.TemporalTz };
  if (/^(timestamp|date|time)/.test(t)) return { cls: 'temporal', code: PgCls.Temporal };
  if (t === 'bytea') return { cls: 'binary', code: PgCls.Binary };
  return { cls: 'text', code: PgCls.Text };
}

const TAB = 0x09;
const NL = 0x0a;
const BS = 0x5c;
const QUOTE = 0x27;
const COMMA = 0x2c;
const LPAREN = 0x28;
const RPAREN = 0x29;

/** After a backslash in a text value: the byte the canonical form gets (raw), or an escape letter. */
const UNESCAPE = new Int16Array(256).fill(-1);
UNESCAPE[0x62] = 0x08; // \b
UNESCAPE[0x66] = 0x0c; // \f
UNESCAPE[0x74] = 0x09; // \t
UNESCAPE[0x76] = 0x0b; // \v
/** Escapes kept as they are (the canonical form writes them the same way): \\ \n \r. */
const KEEP = new Uint8Array(256);
KEEP[0x5c] = 1;
KEEP[0x6e] = 1;
KEEP[0x72] = 1;

const HEX_UPPER = new Uint8Array(256);
for (let c = 0; c < 256; c++) HEX_UPPER[c] = c >= 0x61 && c <= 0x66 ? c - 0x20 : c;

const enum St {
  FieldStart, // nothing of the field read yet
  InField, // inside a value
  Escape, // after a backslash inside a value
  NullMark, // `\` at a field start: `\N` (NULL) or an escaped first character
  AfterNull, // `\N` read: the delimiter follows
  ByteaHead, // the `x` of bytea's `\\x` prefix
}

/**
 * Streaming transcoder: `write(chunk)` as COPY text arrives (chunks may cut rows and escapes
 * anywhere); canonical bytes accumulate in `out`. `drain(hash)` hands the complete rows to a hash
 * and keeps the partial one. `rows` counts complete rows.
 */
export class CopyToCanonical {
  rows = 0;
  readonly out: ChunkBuilder;
  private col = 0;
  private st: St = St.FieldStart;
  /** Offset in `out` just after the last complete row. */
  private rowEnd = 0;

  constructor(private readonly cls: Uint8Array) {
    this.out = new ChunkBuilder(1 << 18);
  }

  write(buf: Buffer, start = 0, end = buf.length): void {
    const cls = this.cls;
    const last = cls.length - 1;
    // Worst case per input byte: an empty text field (1 byte) becomes `'',` (3 bytes); a row end
    // `'),`. Four bytes per input byte and a margin always suffice.
    this.out.ensure((end - start) * 4 + 64);
    const o = this.out.buf;
    let p = this.out.len;
    let col = this.col;
    let st = this.st;
    let rowEnd = this.rowEnd;
    let c: number;
    for (let i = start; i < end; i++) {
      c = buf[i]!;
      if (st === St.FieldStart) {
        if (col === 0) o[p++] = LPAREN;
        if (c === BS) {
          st = St.NullMark;
          continue;
        }
        const k = cls[col]!;
        if (k === PgCls.Temporal || k === PgCls.TemporalTz || k === PgCls.Text) o[p++] = QUOTE;
        else if (k === PgCls.Binary) {
          o[p++] = 0x58; // X
          o[p++] = QUOTE;
        }
        st = St.InField;
        // c is the value's first byte (or the delimiter of an empty value): handled below
      } else if (st === St.NullMark) {
        const k = cls[col]!;
        if (c === 0x4e) {
          // \N
          o[p++] = 0x4e;
          o[p++] = 0x55;
          o[p++] = 0x4c;
          o[p++] = 0x4c;
          st = St.AfterNull;
          continue;
        }
        if (k === PgCls.Binary) {
          // bytea's `\\x…`: this is the second backslash; the x follows.
          o[p++] = 0x58;
          o[p++] = QUOTE;
          st = St.ByteaHead;
          continue;
        }
        // A value whose first character is escaped.
        if (k === PgCls.Text || k === PgCls.Temporal || k === PgCls.TemporalTz) o[p++] = QUOTE;
        st = St.Escape;
      } else if (st === St.ByteaHead) {
        st = St.InField; // skip the x
        continue;
      }

      if (st === St.Escape) {
        st = St.InField;
        if (cls[col] === PgCls.Text) {
          if (KEEP[c] === 1) {
            o[p++] = BS;
            o[p++] = c;
          } else {
            const u = UNESCAPE[c]!;
            o[p++] = u >= 0 ? u : c;
          }
        } else {
          const u = UNESCAPE[c]!;
          o[p++] = c === 0x6e ? NL : c === 0x72 ? 0x0d : u >= 0 ? u : c;
        }
        continue;
      }

      // St.InField or St.AfterNull: c is a value byte, a delimiter or a row end.
      if (c === TAB || c === NL) {
        if (st === St.InField) {
          const k = cls[col]!;
          if (k === PgCls.TemporalTz) {
            // Written in UTC: "…+00" (never cut off: partial rows stay in `out`).
            if (o[p - 3] === 0x2b && o[p - 2] === 0x30 && o[p - 1] === 0x30) p -= 3;
            o[p++] = QUOTE;
          } else if (k === PgCls.Temporal || k === PgCls.Text || k === PgCls.Binary) o[p++] = QUOTE;
        }
        st = St.FieldStart;
        if (c === TAB) {
          o[p++] = COMMA;
          if (++col > last) throw new Error('COPY row has more fields than the table has columns');
        } else {
          if (col !== last) throw new Error(`COPY row has ${col + 1} fields, the table ${cls.length} columns`);
          o[p++] = RPAREN;
          o[p++] = COMMA;
          col = 0;
          rowEnd = p;
          this.rows++;
        }
        continue;
      }
      if (st === St.AfterNull) throw new Error('COPY text: data after \\N');
      switch (cls[col]) {
        case PgCls.Text:
          if (c === BS) st = St.Escape;
          else if (c === QUOTE) {
            o[p++] = BS;
            o[p++] = QUOTE;
          } else if (c === 0x1a) {
            o[p++] = BS;
            o[p++] = 0x5a; // \Z
          } else o[p++] = c;
          break;
        case PgCls.Bool:
          o[p++] = c === 0x74 ? 0x31 : c === 0x66 ? 0x30 : c;
          break;
        case PgCls.Binary:
          o[p++] = HEX_UPPER[c]!;
          break;
        default:
          if (c === BS) st = St.Escape;
          else o[p++] = c;
      }
    }
    this.out.len = p;
    this.col = col;
    this.st = st;
    this.rowEnd = rowEnd;
  }

  /** Hands the complete rows' canonical bytes to `sink` and keeps the partial row. */
  drain(sink: { update(b: Buffer): unknown }): void {
    const n = this.rowEnd;
    if (n === 0) return;
    sink.update(this.out.buf.subarray(0, n));
    const rest = this.out.len - n;
    if (rest > 0) this.out.buf.copy(this.out.buf, 0, n, this.out.len);
    this.out.len = rest;
    this.rowEnd = 0;
  }

  /** Throws when the stream ended inside a row. */
  finish(): void {
    if (this.col !== 0 || this.st !== St.FieldStart) throw new Error('COPY text ended inside a row');
  }
}
