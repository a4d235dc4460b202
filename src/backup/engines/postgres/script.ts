/**
 * Reads a psql script (a `pg_dump` plain file) as a stream of items, without loading it whole:
 *   sql    a statement, without its final `;`
 *   meta   a psql backslash command line (`\connect`, `\restrict` …)
 *   copy   a `COPY … FROM stdin` statement; its rows follow as `data` (consume it before asking
 *          for the next item), up to the `\.` line, which is not part of the data
 * Statements split on `;` outside '…' strings (E'…' ones with backslash escapes), "…"
 * identifiers, $tag$…$tag$ bodies, -- comments and nested /* *\/ comments.
 */

const SEMI = 0x3b;
const SQ = 0x27;
const DQ = 0x22;
const BS = 0x5c;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const NL = 0x0a;
const DOLLAR = 0x24;

export type ScriptItem = { kind: 'sql'; text: string } | { kind: 'meta'; text: string } | { kind: 'copy'; text: string; data: AsyncIterable<Buffer> };

/** A chunked byte source with look-ahead. */
class Source {
  private readonly it: AsyncIterator<Buffer | Uint8Array>;
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  ended = false;

  constructor(chunks: AsyncIterable<Buffer | Uint8Array>) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  /** Makes at least `n` bytes available from `pos` (fewer only at the end). */
  async ensure(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), c]) : c;
      this.pos = 0;
    }
    return this.buf.length - this.pos >= n;
  }
}

const TERMINATOR = Buffer.from('\n\\.');

/** The rows of a COPY block: from `src.pos` up to a line holding only `\.` (consumed, not yielded). */
async function* copyData(src: Source): AsyncGenerator<Buffer> {
  // At the start the previous byte was the newline ending the COPY statement's line.
  let atLineStart = true;
  for (;;) {
    if (!(await src.ensure(4)) && src.buf.length - src.pos === 0) throw new Error('the dump ends inside a COPY block (no \\. line): it is truncated');
    const b = src.buf;
    let from = src.pos;
    // A terminator right at the start of what we have.
    if (atLineStart && b[from] === BS && b[from + 1] === 0x2e && (b[from + 2] === NL || (b[from + 2] === 0x0d && b[from + 3] === NL) || from + 2 >= b.length)) {
      src.pos = from + (b[from + 2] === 0x0d ? 4 : b[from + 2] === NL ? 3 : 2);
      return;
    }
    const i = b.indexOf(TERMINATOR, from);
    if (i >= 0 && i + 3 < b.length) {
      const after = b[i + 3];
      const crlf = after === 0x0d && b[i + 4] === NL;
      if (after === NL || crlf || (after === 0x0d && i + 4 >= b.length && src.ended)) {
        if (i + 1 > from) yield b.subarray(from, i + 1);
        src.pos = i + 3 + (crlf ? 2 : 1);
        return;
      }
      // `\n\.` followed by more: data (a row starting with an escaped dot cannot exist; be lenient).
      yield b.subarray(from, i + 3);
      src.pos = i + 3;
      atLineStart = false;
      continue;
    }
    if (i >= 0 && i + 3 >= b.length) {
      // `\n\.` at the very end: decide with the next bytes.
      if (i + 1 > from) yield b.subarray(from, i + 1);
      src.pos = i + 1;
      atLineStart = true;
      if (!(await src.ensure(3))) {
        // `\.` then the end of the file: a terminator without newline.
        if (src.buf[src.pos] === BS && src.buf[src.pos + 1] === 0x2e) {
          src.pos += 2;
          return;
        }
      }
      continue;
    }
    // No terminator here: hand over all but a possible beginning of one at the end.
    let keep = 0;
    const n = b.length;
    if (b[n - 1] === NL) keep = 1;
    else if (b[n - 1] === BS && b[n - 2] === NL) keep = 2;
    const end = Math.max(from, n - keep);
    if (end > from) yield b.subarray(from, end);
    atLineStart = end > 0 ? b[end - 1] === NL : atLineStart;
    src.pos = end;
    if (src.ended) {
      if (src.pos >= src.buf.length) throw new Error('the dump ends inside a COPY block (no \\. line): it is truncated');
      yield src.buf.subarray(src.pos);
      throw new Error('the dump ends inside a COPY block (no \\. line): it is truncated');
    }
    // Pull the next chunk in (ensure needs more than what is left).
    await src.ensure(src.buf.length - src.pos + 1);
    from = src.pos;
  }
}

const COPY_FROM_STDIN = /^\s*COPY\s[\s\S]*\bFROM\s+stdin\b/i;

const enum S {
  Normal,
  Single,
  Escaped, // E'…'
  EscapedNext, // after a backslash in E'…'
  Ident,
  Dollar,
  LineComment,
  BlockComment,
}

function isIdentByte(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80 || c === DOLLAR);
}

export async function* readScript(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<ScriptItem> {
  const src = new Source(chunks);
  /** The current statement: saved pieces, then src.buf[startAt, src.pos). */
  let parts: Buffer[] = [];
  let startAt = 0;
  let state: S = S.Normal;
  let depth = 0;
  let tag = '';
  let content = false; // anything but blanks and comments in the current statement
  let lineStart = true;
  let prev = -1;
  let prev2 = -1;
  /** Saves the statement's bytes up to `end` before the buffer may be replaced. */
  const hold = (end: number) => {
    if (end > startAt) parts.push(Buffer.from(src.buf.subarray(startAt, end)));
    startAt = end;
  };
  /** Makes `n` bytes available at src.pos, keeping the statement's bytes. */
  const lookAhead = async (n: number) => {
    hold(src.pos);
    await src.ensure(n);
    startAt = src.pos;
  };
  const statement = (end: number): string => {
    hold(end);
    const text = Buffer.concat(parts).toString('utf8');
    parts = [];
    return text.trim();
  };
  for (;;) {
    if (src.pos >= src.buf.length) {
      await lookAhead(1);
      if (src.pos >= src.buf.length) break;
    }
    const b = src.buf;
    const i = src.pos;
    const c = b[i]!;
    src.pos = i + 1;
    switch (state) {
      case S.Normal:
        if (c === SEMI) {
          const text = stripComments(statement(i));
          startAt = src.pos;
          content = false;
          prev = c;
          if (COPY_FROM_STDIN.test(text)) {
            // The rows start after the end of this line.
            for (;;) {
              const nl = src.buf.indexOf(NL, src.pos);
              if (nl >= 0) {
                src.pos = nl + 1;
                break;
              }
              src.pos = src.buf.length;
              if (!(await src.ensure(1))) break;
            }
            const data = copyData(src);
            yield { kind: 'copy', text, data };
            // Whatever the consumer left unread is skipped.
            for await (const _ of data);
            startAt = src.pos;
            lineStart = true;
            prev = NL;
            continue;
          }
          if (text) yield { kind: 'sql', text };
          lineStart = false;
          continue;
        }
        if (c === BS && lineStart && !content) {
          // A psql meta-command: the rest of the line.
          parts = [];
          let line = '';
          for (;;) {
            const nl = src.buf.indexOf(NL, src.pos);
            if (nl >= 0) {
              line += src.buf.toString('utf8', src.pos, nl);
              src.pos = nl + 1;
              break;
            }
            line += src.buf.toString('utf8', src.pos);
            src.pos = src.buf.length;
            if (!(await src.ensure(1))) break;
          }
          startAt = src.pos;
          yield { kind: 'meta', text: `\\${line}`.trim() };
          lineStart = true;
          prev = NL;
          continue;
        }
        if (c === SQ) {
          state = (prev === 0x45 || prev === 0x65) && !isIdentByte(prev2) ? S.Escaped : S.Single;
          content = true;
        } else if (c === DQ) {
          state = S.Ident;
          content = true;
        } else if (c === DASH && prev === DASH) {
          state = S.LineComment;
        } else if (c === STAR && prev === SLASH) {
          state = S.BlockComment;
          depth = 1;
        } else if (c === DOLLAR && !isIdentByte(prev)) {
          src.pos = i;
          await lookAhead(66);
          const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(src.buf.toString('latin1', src.pos, Math.min(src.buf.length, src.pos + 66)));
          if (m) {
            state = S.Dollar;
            tag = m[0];
            src.pos += tag.length;
          } else src.pos += 1;
          content = true;
          prev2 = prev;
          prev = DOLLAR;
          lineStart = false;
          continue;
        } else if (c !== 0x20 && c !== 0x09 && c !== NL && c !== 0x0d && c !== DASH && c !== SLASH) {
          content = true;
        }
        break;
      case S.Single:
        if (c === SQ) state = S.Normal;
        break;
      case S.Escaped:
        if (c === BS) state = S.EscapedNext;
        else if (c === SQ) state = S.Normal;
        break;
      case S.EscapedNext:
        state = S.Escaped;
        break;
      case S.Ident:
        if (c === DQ) state = S.Normal;
        break;
      case S.Dollar:
        if (c === DOLLAR) {
          src.pos = i;
          await lookAhead(tag.length);
          if (src.buf.toString('latin1', src.pos, src.pos + tag.length) === tag) {
            src.pos += tag.length;
            state = S.Normal;
          } else src.pos += 1;
          prev2 = prev;
          prev = DOLLAR;
          lineStart = false;
          continue;
        }
        break;
      case S.LineComment:
        if (c === NL) state = S.Normal;
        break;
      case S.BlockComment:
        if (c === SLASH && prev === STAR) {
          if (--depth === 0) state = S.Normal;
          prev2 = prev;
          prev = -1;
          lineStart = false;
          continue;
        }
        if (c === STAR && prev === SLASH) {
          depth++;
          prev2 = prev;
          prev = -1;
          lineStart = false;
          continue;
        }
        break;
    }
    lineStart = c === NL;
    prev2 = prev;
    // A `--` that closed a comment must not combine with the next dash.
    prev = state === S.LineComment && c === DASH && prev === DASH ? -1 : c;
  }
  const rest = stripComments(statement(src.pos));
  if (rest) yield { kind: 'sql', text: rest };
}

/** Drops leading blank lines and comments. */
export function stripComments(sql: string): string {
  let t = sql;
  for (;;) {
    const before = t;
    t = t.replace(/^\s+/, '');
    if (t.startsWith('--')) {
      const nl = t.indexOf('\n');
      t = nl < 0 ? '' : t.slice(nl + 1);
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/');
      t = end < 0 ? '' : t.slice(end + 2);
    }
    if (t === before) return t.trimEnd();
  }
}
