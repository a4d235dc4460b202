/**
 * The one object that writes to the terminal (after Ghost-CLI's UI): results to stdout (a table or
 * one JSON document), everything else to stderr. Colors only when allowed (NO_COLOR, --no-color,
 * TERM=dumb, not a TTY); spinners and progress bars only when stderr is a TTY.
 */
import type { Ora } from 'ora';
import { InvalidInput } from '../domain/errors.js';
import { displayTime, localZoneName } from '../domain/dates.js';

export { displayTime };

/** A header naming the display time zone: "last login (Europe/Paris)". */
export function zoned(label: string): string {
  return `${label} (${localZoneName()})`;
}

export type OutputFormat = 'table' | 'json' | 'tsv' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'tsv', 'csv'];

export interface UiOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  /** -o/--output; default: table on a terminal, tsv when stdout is piped (json with --json). */
  format?: OutputFormat;
  /** --wide: every column, nothing truncated. */
  wide?: boolean;
  /** --columns a,b,c: these columns, in this order (table, tsv, csv). */
  columns?: string[];
  /** --no-headers: no header row in tables, tsv and csv. */
  headers?: boolean;
  /** --no-pager turns the pager off; it is only ever used when stdout is a terminal. */
  pager?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface Column<T> {
  header: string;
  /** The cell: a raw value (numbers stay numbers: grouped in tables, plain in tsv/csv). */
  value: (row: T) => unknown;
  align?: 'left' | 'right';
  /** Machine name: the tsv/csv header and what --columns selects. Default: from the header. */
  key?: string;
  /** id: never grouped; count: grouped in tables; money: "1234.50" grouped in tables. */
  kind?: 'id' | 'count' | 'money' | 'text';
  /** Only with --wide (or when named in --columns). */
  wide?: boolean;
}

/** Where a list continues: the keyset cursor of its next page. */
export interface PageInfo<T> {
  limit: number;
  cursor: (last: T) => number | string;
  /** The option that takes the cursor (default --after). */
  flag?: string;
}

type Paint = (s: string) => string;
const plain: Paint = (s) => s;

export interface Progress {
  tick(n?: number): void;
  update(done: number): void;
  done(message?: string): void;
  /** Prints a line above the bar (e.g. a finished step) and redraws the bar. */
  note?(message: string): void;
}

/** Rows rendered between two yields to the event loop (so Ctrl-C is served while drawing). */
const CHUNK_ROWS = 1000;
const GAP = 2;

export class Ui {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  readonly format: OutputFormat;
  readonly wide: boolean;
  readonly headers: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  private readonly wanted?: string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly stdoutColor: boolean;
  private spinners = new Set<Ora>();
  private paint: { red: Paint; yellow: Paint; green: Paint; dim: Paint; bold: Paint } = {
    red: plain,
    yellow: plain,
    green: plain,
    dim: plain,
    bold: plain,
  };
  /** Paging: stdout (and the stderr lines written after it, in order) kept until finish(). */
  private paging: boolean;
  private held: Array<{ err: boolean; text: string }> = [];
  private holding = false;
  private aborted = false;
  /** True while the pager owns the terminal: Ctrl-C is the pager's, not ours. */
  pagerRunning = false;

  constructor(opts: UiOptions, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.format = opts.format ?? (opts.json ? 'json' : stdout.isTTY ? 'table' : 'tsv');
    this.json = this.format === 'json';
    this.quiet = opts.quiet;
    this.color = opts.color;
    this.wide = Boolean(opts.wide);
    this.headers = opts.headers !== false;
    this.wanted = opts.columns;
    this.env = opts.env ?? process.env;
    this.stdout = stdout;
    this.stderr = stderr;
    this.stdoutColor = opts.color && Boolean(stdout.isTTY) && this.format === 'table';
    this.paging = opts.pager !== false && Boolean(stdout.isTTY) && Boolean(stderr.isTTY) && this.format === 'table' && pagerCommand(this.env) !== null;
  }

  /** Loads chalk only when colors will be used (keeps start-up light). */
  async init(): Promise<void> {
    if (!this.color) return;
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    this.paint = { red: chalk.red, yellow: chalk.yellow, green: chalk.green, dim: chalk.dim, bold: chalk.bold };
  }

  get interactive(): boolean {
    return Boolean(this.stderr.isTTY) && !this.quiet && !this.json;
  }

  /** The width tables are fitted to: the terminal's, COLUMNS when piped with -o table, else none. */
  get width(): number {
    if (this.wide) return Infinity;
    if (this.stdout.isTTY && this.stdout.columns > 0) return this.stdout.columns;
    const env = Number(this.env.COLUMNS);
    return Number.isInteger(env) && env > 0 ? env : Infinity;
  }

  /** Ctrl-C: stop drawing at the next chunk. */
  abort(): void {
    this.aborted = true;
  }

  // ---- results (stdout) -------------------------------------------------------------------

  private out(text: string): void {
    if (this.paging) {
      this.holding = true;
      this.held.push({ err: false, text });
    } else this.stdout.write(text);
  }

  private async yieldToSignals(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (this.aborted) {
      const { Interrupted } = await import('../domain/errors.js');
      throw new Interrupted('interrupted while printing the result');
    }
  }

  /** Writes one JSON document to stdout. */
  printJson(data: unknown): void {
    this.out(JSON.stringify(data, null, 2) + '\n');
  }

  /**
   * A list: with --json the array of `jsonRows` (the stable snake_case records), else the
   * columns as a table (terminal), tsv (piped) or csv. A full page names its next-page cursor on
   * stderr: one wording for people, `{"next_after": …}` with --json (the array stays an array).
   */
  async list<T>(rows: T[], columns: Column<T>[], jsonRows: unknown[] = rows, page?: PageInfo<T>): Promise<void> {
    if (this.json) this.printJson(jsonRows);
    else if (rows.length === 0 && this.format === 'table') this.info('(no rows)');
    else await this.renderRows(rows, columns);
    if (page && rows.length > 0 && rows.length >= page.limit) this.nextPage(page.cursor(rows[rows.length - 1]!), page.flag);
  }

  /** The one "next page" wording (and the JSON cursor). */
  nextPage(cursor: number | string, flag = '--after'): void {
    if (this.json) {
      const key = `next_${flag.replace(/^--/, '')}`;
      this.log(JSON.stringify({ [key]: cursor }));
    } else this.info(`more may follow: add ${flag} ${cursor} for the next page`);
  }

  private selectColumns<T>(columns: Column<T>[]): Column<T>[] {
    // Piped (tsv, csv) every column is there: --wide is about what fits on a screen.
    if (!this.wanted) return columns.filter((c) => this.wide || !c.wide || this.format !== 'table');
    const byKey = new Map(columns.map((c) => [columnKey(c), c]));
    const unknown = this.wanted.filter((k) => !byKey.has(k));
    if (unknown.length > 0) {
      throw new InvalidInput(`--columns: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: choose from ${[...byKey.keys()].join(', ')}`);
    }
    return this.wanted.map((k) => byKey.get(k)!);
  }

  /** Table, tsv or csv of the rows; linear in rows × columns, yielding so Ctrl-C stops it. */
  private async renderRows<T>(rows: T[], all: Column<T>[], indent = ''): Promise<void> {
    const columns = this.selectColumns(all);
    const fmt = this.format;
    if (fmt === 'tsv' || fmt === 'csv') {
      const sep = fmt === 'tsv' ? '\t' : ',';
      const esc = fmt === 'tsv' ? tsvField : csvField;
      if (this.headers) this.out(columns.map((c) => esc(columnKey(c))).join(sep) + '\n');
      for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
        let chunk = '';
        for (const row of rows.slice(i, i + CHUNK_ROWS)) chunk += columns.map((c) => esc(machineCell(c, c.value(row)))).join(sep) + '\n';
        this.out(chunk);
        await this.yieldToSignals();
      }
      return;
    }
    // Table: every cell once, then the widths, then the lines.
    const cells: string[][] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      cells[i] = columns.map((c) => this.cleanCell(personCell(c, c.value(row))));
      if (i % (CHUNK_ROWS * 5) === CHUNK_ROWS * 5 - 1) await this.yieldToSignals();
    }
    const heads = columns.map((c) => tableHeader(c.header));
    const natural = columns.map((_, j) => {
      let w = displayWidth(heads[j]!);
      for (let i = 0; i < cells.length; i++) {
        const v = displayWidth(cells[i]![j]!);
        if (v > w) w = v;
      }
      return w;
    });
    // Times are never cut: a column whose every cell is a date/time keeps its width.
    const times = columns.map((_, j) => cells.length > 0 && cells.every((r) => r[j] === '' || /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$/.test(r[j]!)));
    const { widths, shown } = fitColumns(natural, columns.map((c, j) => (times[j] ? { ...c, kind: 'id' as const } : c)), this.width - indent.length, heads);
    if (shown.length < columns.length) {
      this.info(`${columns.length - shown.length} column${columns.length - shown.length > 1 ? 's' : ''} hidden to fit ${this.width} columns: use --wide, -o tsv or --columns`);
    }
    const line = (texts: string[], head: boolean): string => {
      let s = indent;
      shown.forEach((j, k) => {
        const w = widths[k]!;
        let t = truncate(texts[j]!, w);
        const pad = w - displayWidth(t);
        const last = k === shown.length - 1;
        if (head && this.stdoutColor) t = this.paint.bold(t);
        if (columns[j]!.align === 'right') s += ' '.repeat(pad) + t;
        else s += last ? t : t + ' '.repeat(pad);
        if (!last) s += ' '.repeat(GAP);
      });
      return s.replace(/ +$/, '') + '\n';
    };
    if (this.headers) this.out(line(heads, true));
    for (let i = 0; i < cells.length; i += CHUNK_ROWS) {
      let chunk = '';
      const end = Math.min(cells.length, i + CHUNK_ROWS);
      for (let r = i; r < end; r++) chunk += line(cells[r]!, false);
      this.out(chunk);
      await this.yieldToSignals();
    }
  }

  private cleanCell(s: string): string {
    return this.stdoutColor ? s : stripAnsi(s);
  }

  /**
   * One record: with --json the object; on a terminal aligned `key: value` lines under the title
   * (long values wrapped to the width); piped, `key<TAB>value` lines (csv: key,value).
   */
  async record(data: Record<string, unknown>, json: unknown = data, title?: string): Promise<void> {
    if (this.json) return this.printJson(json);
    const entries = Object.entries(data).map(([k, v]) => [k, v === null || v === undefined ? '' : this.cleanCell(personValue(v))] as const);
    if (this.format === 'tsv' || this.format === 'csv') {
      const sep = this.format === 'tsv' ? '\t' : ',';
      const esc = this.format === 'tsv' ? tsvField : csvField;
      if (title) this.out(`# ${stripAnsi(title)}\n`);
      for (const [k, v] of entries) this.out(`${esc(k.trim())}${sep}${esc(stripAnsi(v))}\n`);
      return;
    }
    const indent = title ? '  ' : '';
    if (title) this.out(this.paint.bold(title.replace(/^\n/, '')) + '\n');
    const keyWidth = Math.max(0, ...entries.map(([k]) => displayWidth(k) + 1));
    const valueWidth = this.width - indent.length - keyWidth - 1;
    for (const [k, v] of entries) {
      const key = `${k}:`.padEnd(keyWidth + (k.length - displayWidth(k)));
      const lines = wrap(v, valueWidth);
      this.out(`${indent}${key} ${lines[0] ?? ''}`.replace(/ +$/, '') + '\n');
      for (const more of lines.slice(1)) this.out(`${indent}${' '.repeat(keyWidth)} ${more}\n`);
    }
  }

  /** A titled table inside a multi-part screen (show commands); nothing with --json. */
  async section<T>(title: string, rows: T[], columns: Column<T>[]): Promise<void> {
    if (this.json) return;
    if (this.format !== 'table') {
      this.out(`\n# ${stripAnsi(title)}\n`);
      await this.renderRows(rows, columns);
      return;
    }
    this.out('\n' + this.paint.bold(title) + '\n');
    if (rows.length === 0) {
      this.out('  ' + this.paint.dim('(none)') + '\n');
      return;
    }
    await this.renderRows(rows, columns, '  ');
  }

  /** A plain line of result text on stdout (for people; suppressed with --json). */
  line(text: string): void {
    if (this.json) return;
    if (this.format !== 'table') return this.out(stripAnsi(text) + '\n');
    const shown = this.stdoutColor ? text : stripAnsi(text);
    // Long sentences wrap at word boundaries to the terminal's width.
    const lines = displayWidth(shown) > this.width ? text.split('\n').flatMap((l) => wrap(l, this.width)) : [shown];
    this.out(lines.join('\n') + '\n');
  }

  /**
   * End of the command: what was held for the pager goes through it when it is longer than the
   * screen, else straight to the terminal (stderr lines in their place).
   */
  async finish(): Promise<void> {
    const held = this.held.splice(0);
    this.holding = false;
    if (held.length === 0) return;
    const text = held.filter((h) => !h.err).map((h) => h.text).join('');
    const rows = this.stdout.rows > 0 ? this.stdout.rows : 24;
    const command = pagerCommand(this.env);
    if (command && countLines(text) >= rows && !this.aborted && (await this.runPager(command, text))) {
      for (const h of held) if (h.err) this.stderr.write(h.text);
      return;
    }
    for (const h of held) (h.err ? this.stderr : this.stdout).write(h.text);
  }

  /** Writes what was held, without a pager (before an error message, or on Ctrl-C). */
  flushHeld(): void {
    const held = this.held.splice(0);
    this.holding = false;
    this.paging = false;
    // After Ctrl-C the half-drawn result is dropped; the messages still come out.
    for (const h of held) if (h.err || !this.aborted) (h.err ? this.stderr : this.stdout).write(h.text);
  }

  private async runPager(command: string, text: string): Promise<boolean> {
    const { spawn } = await import('node:child_process');
    const env = { ...this.env, LESS: this.env.LESS ?? 'FRX', LV: this.env.LV ?? '-c' };
    return new Promise<boolean>((resolve) => {
      let child;
      try {
        child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env });
      } catch {
        return resolve(false);
      }
      let started = false;
      child.on('spawn', () => {
        started = true;
        this.pagerRunning = true;
      });
      child.on('error', () => resolve(started));
      child.stdin.on('error', () => undefined); // the pager quit before reading everything: fine
      child.on('close', (code) => {
        this.pagerRunning = false;
        // 127: the shell did not find the pager; print without one.
        resolve(code !== 127);
      });
      child.stdin.end(text);
    });
  }

  // ---- messages (stderr) ------------------------------------------------------------------

  info(message: string): void {
    if (!this.quiet) this.log(message);
  }

  success(message: string): void {
    if (!this.quiet) this.log(this.paint.green(message));
  }

  /** A message on stderr that --quiet does not hide (e.g. the target named beside a prompt). */
  note(message: string): void {
    this.log(message);
  }

  warn(message: string): void {
    this.log(this.paint.yellow(`warning: ${message}`));
  }

  dim(text: string): string {
    return this.paint.dim(text);
  }

  yellow(text: string): string {
    return this.paint.yellow(text);
  }

  red(text: string): string {
    return this.paint.red(text);
  }

  green(text: string): string {
    return this.paint.green(text);
  }

  bold(text: string): string {
    return this.paint.bold(text);
  }

  /** Error line, as the contract says: `error: …`, or a JSON object with --json. */
  error(code: string, message: string, details?: Record<string, unknown>): void {
    this.flushHeld();
    if (this.json) {
      this.stderr.write(JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }) + '\n');
    } else {
      this.stopSpinners();
      this.stderr.write(this.paint.red(`error: ${message}`) + '\n');
    }
  }

  private log(message: string): void {
    // Once a result is held for the pager, messages after it keep their place behind it.
    if (this.holding) {
      this.held.push({ err: true, text: message + '\n' });
      return;
    }
    const active = [...this.spinners].filter((s) => s.isSpinning);
    for (const s of active) s.stop();
    this.stderr.write(message + '\n');
    for (const s of active) s.start();
  }

  // ---- progress (stderr, TTY only) --------------------------------------------------------

  /** A spinner on a TTY; a no-op object otherwise. */
  async spinner(text: string): Promise<{ text: string; succeed(t?: string): void; fail(t?: string): void; stop(): void }> {
    // ora loops forever on a terminal that reports 0 columns (e.g. `script` without stty cols).
    if (!this.interactive || !(this.stderr.columns > 0)) {
      return { text, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
    }
    const { default: ora } = await import('ora');
    const s = ora({ text, stream: this.stderr, color: 'cyan', isEnabled: true }).start();
    this.spinners.add(s);
    const forget = () => this.spinners.delete(s);
    return {
      get text() {
        return s.text;
      },
      set text(t: string) {
        s.text = t;
      },
      succeed: (t?: string) => (forget(), s.succeed(t)),
      fail: (t?: string) => (forget(), s.fail(t)),
      stop: () => (forget(), s.stop()),
    };
  }

  /**
   * A progress line on a TTY: "label  done/total  pct  rate/s  ETA". Never shows over 100%.
   * A no-op when stderr is not a TTY (cron, pipes).
   */
  progress(label: string, total: number): Progress {
    if (!this.interactive) return { tick: () => undefined, update: () => undefined, done: () => undefined, note: () => undefined };
    const start = Date.now();
    let done = 0;
    let last = 0;
    const render = (force = false) => {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      const shown = Math.min(done, total);
      const pct = total > 0 ? Math.min(100, (shown / total) * 100) : 100;
      const secs = (now - start) / 1000;
      const rate = secs > 0 ? shown / secs : 0;
      const eta = rate > 0 && total > shown ? Math.ceil((total - shown) / rate) : 0;
      this.stderr.write(
        `\r\x1b[2K${label}  ${shown.toLocaleString('en')}/${total.toLocaleString('en')}  ${pct.toFixed(0)}%  ${Math.round(rate).toLocaleString('en')}/s  ETA ${eta}s`,
      );
    };
    return {
      tick: (n = 1) => {
        done += n;
        render();
      },
      update: (d) => {
        done = d;
        render();
      },
      done: (message?: string) => {
        render(true);
        this.stderr.write('\r\x1b[2K' + (message ? message + '\n' : ''));
      },
      note: (message: string) => {
        this.stderr.write('\r\x1b[2K' + message + '\n');
        render(true);
      },
    };
  }

  stopSpinners(): void {
    for (const s of this.spinners) s.stop();
    this.spinners.clear();
  }
}

/** The one number format for people: grouped thousands (7,653); JSON and TSV keep plain numbers. */
export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

/** Whether colors are allowed on stderr/stdout given flags and environment. */
export function colorAllowed(flag: boolean | undefined, env: NodeJS.ProcessEnv, stream: NodeJS.WriteStream): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

// ---- cells ------------------------------------------------------------------------------------

/** The machine name of a column: its key, else its header in snake_case without "(…)". */
export function columnKey<T>(c: Column<T>): string {
  if (c.key) return c.key;
  const k = c.header
    .replace(/\([^)]*\)/g, '')
    .trim()
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return k || 'value';
}

/** gh/kubectl headers: upper case, except a parenthesised part such as the time zone. */
function tableHeader(h: string): string {
  return h.replace(/(^|\))([^(]*)/g, (_m, p: string, t: string) => p + t.toUpperCase());
}

function personValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return formatCount(v);
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function isIdColumn<T>(c: Column<T>): boolean {
  if (c.kind) return c.kind === 'id';
  const k = columnKey(c);
  return k === 'id' || k.endsWith('_id');
}

function personCell<T>(c: Column<T>, v: unknown): string {
  if (typeof v === 'number') return isIdColumn(c) ? String(v) : formatCount(v);
  if (c.kind === 'money' && typeof v === 'string') return groupMoney(v);
  return personValue(v);
}

function machineCell<T>(_c: Column<T>, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v instanceof Date) return v.toISOString();
  return stripAnsi(String(v));
}

/** "1234567.50" → "1,234,567.50" (for people only; the exact string stays in JSON and tsv). */
export function formatMoney(s: string): string {
  return groupMoney(s);
}

function groupMoney(s: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return s;
  return m[1]! + m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] ?? '');
}

function tsvField(s: string): string {
  return s.replace(/[\t\r\n]+/g, ' ');
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(s: string): string {
  return s.includes('\x1b') ? s.replace(ANSI, '') : s;
}

/** Columns a terminal shows for a string: ANSI colors 0, combining marks 0, wide (CJK, emoji) 2. */
export function displayWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let w = 0;
  for (const ch of stripAnsi(s)) w += charWidth(ch.codePointAt(0)!);
  return w;
}

function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Cuts to `width` columns, ending with "…" when something was cut (colors are dropped then). */
export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of stripAnsi(s)) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/** Word-wraps to `width` columns (hard cut for a word longer than the width). */
function wrap(s: string, width: number): string[] {
  if (!Number.isFinite(width) || width < 10 || displayWidth(s) <= width) return [s];
  const text = stripAnsi(s);
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    const candidate = current ? `${current} ${word}` : word;
    if (displayWidth(candidate) <= width) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    let rest = word;
    while (displayWidth(rest) > width) {
      const head = truncate(rest, width + 1).slice(0, -1);
      lines.push(head);
      rest = rest.slice(head.length);
    }
    current = rest;
  }
  if (current) lines.push(current);
  return lines;
}

const MIN_FLEX = 5;

/**
 * Widths that fit `limit` (gh's rule): numbers and ids keep their width, text columns share
 * what is left (the narrow ones keep theirs, the wide ones are cut with "…"); when even that
 * cannot fit, the right-most columns are left out (the caller says so).
 */
export function fitColumns<T>(natural: number[], columns: Column<T>[], limit: number, heads: string[]): { widths: number[]; shown: number[] } {
  let shown = natural.map((_, j) => j);
  const total = (idx: number[], w: (j: number) => number) => idx.reduce((n, j) => n + w(j), 0) + GAP * Math.max(0, idx.length - 1);
  if (total(shown, (j) => natural[j]!) <= limit) return { widths: shown.map((j) => natural[j]!), shown };
  const fixed = (j: number) => columns[j]!.align === 'right' || isIdColumn(columns[j]!);
  const min = (j: number) => (fixed(j) ? natural[j]! : Math.min(natural[j]!, Math.max(MIN_FLEX, Math.min(displayWidth(heads[j]!), 10))));
  while (shown.length > 1 && total(shown, min) > limit) shown = shown.slice(0, -1);
  const width = new Map<number, number>();
  for (const j of shown) if (fixed(j)) width.set(j, natural[j]!);
  let budget = limit - GAP * (shown.length - 1) - [...width.values()].reduce((a, b) => a + b, 0);
  let flex = shown.filter((j) => !fixed(j)).sort((a, b) => natural[a]! - natural[b]!);
  // Water-filling: a column narrower than its fair share keeps its natural width.
  while (flex.length > 0) {
    const share = Math.floor(budget / flex.length);
    const j = flex[0]!;
    if (natural[j]! <= share) {
      width.set(j, natural[j]!);
      budget -= natural[j]!;
      flex = flex.slice(1);
      continue;
    }
    let extra = budget - share * flex.length;
    for (const k of flex) {
      const w = Math.max(min(k), share + (extra > 0 ? 1 : 0));
      extra--;
      width.set(k, w);
    }
    break;
  }
  // Minimum widths may overshoot the share: take the excess back from the widest text columns.
  let excess = total(shown, (j) => width.get(j)!) - limit;
  while (excess > 0) {
    const j = shown.filter((k) => !fixed(k) && width.get(k)! > min(k)).sort((a, b) => width.get(b)! - width.get(a)!)[0];
    if (j === undefined) break;
    width.set(j, width.get(j)! - 1);
    excess--;
  }
  return { widths: shown.map((j) => Math.max(0, width.get(j)!)), shown };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** BILLETTIGUE_PAGER, else PAGER, else less; "" or "cat" means no pager. */
export function pagerCommand(env: NodeJS.ProcessEnv): string | null {
  const p = (env.BILLETTIGUE_PAGER ?? env.PAGER ?? 'less').trim();
  if (p === '' || p === 'cat') return null;
  return p;
}
