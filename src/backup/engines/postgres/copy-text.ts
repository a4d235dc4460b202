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

/** Text bytes copied as they are (everything but tab, newline, backslash, quote and Ctrl-Z). */
const TEXT_PLAIN = new Uint8Array(256).fill(1);
for (const c of [0x09, 0x0a, 0x5c, 0x27, 0x1a]) TEXT_PLAIN[c] = 0;

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
    let i = start;
    let c = 0;
    while (i < end) {
      // ---- the states between values (rare bytes) ---------------------------------------
      if (st !== St.InField) {
        c = buf[i]!;
        if (st === St.FieldStart) {
          if (col === 0) o[p++] = LPAREN;
          if (c === BS) {
            st = St.NullMark;
            i++;
            continue;
          }
          const k = cls[col]!;
          if (k === PgCls.Temporal || k === PgCls.TemporalTz || k === PgCls.Text) o[p++] = QUOTE;
          else if (k === PgCls.Binary) {
            o[p++] = 0x58; // X
            o[p++] = QUOTE;
          }
          st = St.InField;
          // c is the value's first byte, or the delimiter of an empty value: read below
        } else if (st === St.NullMark) {
          const k = cls[col]!;
          i++;
          if (c === 0x4e) {
            // \N
            o[p++] = 0x4e;
            o[p++] = 0x55;
            o[p++] = 0x4c;
            o[p++] = 0x4c;
            st = St.AfterNull;
          } else if (k === PgCls.Binary) {
            // bytea's `\\x…`: this is the second backslash; the x follows.
            o[p++] = 0x58;
            o[p++] = QUOTE;
            st = St.ByteaHead;
          } else {
            // A value whose first character is escaped.
            if (k === PgCls.Text || k === PgCls.Temporal || k === PgCls.TemporalTz) o[p++] = QUOTE;
            p = this.unescape(c, k, o, p);
            st = St.InField;
          }
          continue;
        } else if (st === St.ByteaHead) {
          st = St.InField; // the x
          i++;
          continue;
        } else if (st === St.Escape) {
          p = this.unescape(c, cls[col]!, o, p);
          st = St.InField;
          i++;
          continue;
        } else if (c !== TAB && c !== NL) {
          throw new Error('COPY text: data after \\N');
        }
      }
      // ---- inside a value (or at the delimiter after \N): the hot loops, one per class --
      if (st === St.InField) {
        switch (cls[col]) {
          case PgCls.Text:
            while (i < end) {
              c = buf[i]!;
              if (TEXT_PLAIN[c] === 1) {
                o[p++] = c;
                i++;
                continue;
              }
              if (c === TAB || c === NL) break;
              i++;
              if (c === BS) {
                st = St.Escape;
                break;
              }
              o[p++] = BS;
              o[p++] = c === QUOTE ? QUOTE : 0x5a; // \' or \Z (Ctrl-Z)
            }
            break;
          case PgCls.Bool:
            while (i < end && (c = buf[i]!) !== TAB && c !== NL) {
              o[p++] = c === 0x74 ? 0x31 : c === 0x66 ? 0x30 : c;
              i++;
            }
            break;
          case PgCls.Binary:
            while (i < end && (c = buf[i]!) !== TAB && c !== NL) {
              o[p++] = HEX_UPPER[c]!;
              i++;
            }
            break;
          default:
            // Numbers and times: no escapes, copied as they are.
            while (i < end && (c = buf[i]!) !== TAB && c !== NL) {
              o[p++] = c;
              i++;
            }
        }
        if (i >= end || st === St.Escape) continue;
        // The value ends here: close it.
        const k = cls[col]!;
        if (k === PgCls.TemporalTz) {
          // Written in UTC: "…+00" (never cut off: partial rows stay in `out`).
          if (o[p - 3] === 0x2b && o[p - 2] === 0x30 && o[p - 1] === 0x30) p -= 3;
          o[p++] = QUOTE;
        } else if (k === PgCls.Temporal || k === PgCls.Text || k === PgCls.Binary) o[p++] = QUOTE;
      }
      // c is the delimiter or the end of the row.
      i++;
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
    }
    this.out.len = p;
    this.col = col;
    this.st = st;
    this.rowEnd = rowEnd;
  }

  /** The canonical bytes of an escaped character (after its backslash). */
  private unescape(c: number, k: number, o: Buffer, p: number): number {
    if (k === PgCls.Text) {
      if (KEEP[c] === 1) {
        o[p++] = BS;
        o[p++] = c;
        return p;
      }
      const u = UNESCAPE[c]!;
      o[p++] = u >= 0 ? u : c;
      return p;
    }
    const u = UNESCAPE[c]!;
    o[p++] = c === 0x6e ? NL : c === 0x72 ? 0x0d : u >= 0 ? u : c;
    return p;
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
