/**
 * The terminal experience (issue 16), through the binary: in a pseudo-terminal at 80 and 120
 * columns no line is wider than the terminal; piped, plain tab-separated lines with a header and
 * no box drawing; -o csv/json, --columns, --no-headers; Ctrl-C while a long table is drawn → 130;
 * one next-page wording and the JSON cursor on stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { childOf, runTty, spawnTty } from './helpers/tty.js';
import { displayWidth, stripAnsi } from '../src/cli/ui.js';

const BOX = /[│┌┐└┘├┤┬┴┼─═║]/;

const SCREENS: string[][] = [
  ['accounts', 'list', '--limit', '30'],
  ['accounts', 'show', '3'],
  ['roles', 'list'],
  ['tokens', 'list', '--limit', '20'],
  ['trajets', 'list', '--limit', '30'],
  ['trajets', 'show', '2'],
  ['reservations', 'list', '--limit', '30'],
  ['reservations', 'show', '1'],
  ['payments', 'list', '--limit', '30'],
  ['payments', 'list', '--summary'],
  ['envois', 'list', '--limit', '30'],
  ['envois', 'show', '1'],
  ['colis', 'list', '--limit', '30'],
  ['zones', 'list', '--limit', '30'],
  ['audit', 'list'],
  ['stats'],
  ['db', 'status'],
  ['doctor'],
  ['maintenance', 'check', '--list-rules'],
];

describe('output that fits (SQLite, demo data)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('sqlite');
    const seeded = await run(['seed', 'demo', '--scale', 'tiny', '--trajets', '400', '--reservations', '4000', '--yes'], { url: db.url });
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => db?.drop());

  it.each([80, 120])('no result line wider than a %i-column terminal, on every screen', async (cols) => {
    for (const args of SCREENS) {
      const r = await runTty([...args, '--no-pager'], { url: db.url, cols, stderr: false });
      expect(r.code, `${args.join(' ')}\n${r.output}`).toBe(0);
      expect(r.output, args.join(' ')).not.toMatch(BOX);
      for (const line of stripAnsi(r.output).split('\n')) {
        expect(displayWidth(line), `${args.join(' ')} at ${cols}: "${line}"`).toBeLessThanOrEqual(cols);
      }
    }
  }, 180_000);

  it('a terminal table: upper-case header row, aligned columns, long cells cut with …, --wide shows all', async () => {
    const r = await runTty(['accounts', 'list', '--limit', '5', '--no-pager', '--no-color'], { url: db.url, cols: 60 });
    const lines = r.output.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^ID +EMAIL +ROLE/);
    expect(r.output).toContain('…');
    const wide = await runTty(['accounts', 'list', '--limit', '5', '--no-pager', '--no-color', '--wide'], { url: db.url, cols: 60 });
    expect(wide.output).not.toContain('…');
    expect(wide.output).toMatch(/VERIFIED/);
  });

  it('piped: tab-separated with a snake_case header, no box drawing; --no-headers, --columns, -o csv, -o json', async () => {
    for (const args of SCREENS) {
      const r = await run(args, { url: db.url });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(BOX);
    }
    const tsv = await run(['accounts', 'list', '--limit', '3'], { url: db.url });
    const rows = tsv.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows[0]).toEqual(['id', 'email', 'role', 'name', 'status', 'locked', 'verified', 'failed_logins', 'last_login']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['1', '2', '3']);
    expect(rows.every((r) => r.length === rows[0]!.length)).toBe(true);

    const cols = await run(['accounts', 'list', '--limit', '2', '--columns', 'email,id', '--no-headers'], { url: db.url });
    expect(cols.stdout.trim().split('\n').map((l) => l.split('\t')[1])).toEqual(['1', '2']);
    const bad = await run(['accounts', 'list', '--columns', 'id,nope'], { url: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --columns: unknown column nope: choose from id, email/);

    const csv = await run(['-o', 'csv', 'reservations', 'list', '--limit', '2'], { url: db.url });
    expect(csv.stdout.split('\n')[0]).toBe('id,trajet,passenger,phone,seats,status,refundable,total,paiement,account,booked');
    const json = await runJson<unknown[]>(['-o', 'json', 'accounts', 'list', '--limit', '2'], { url: db.url });
    expect(json.data).toHaveLength(2);
    const badFormat = await run(['-o', 'yaml', 'accounts', 'list'], { url: db.url });
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/^error: -o\/--output "yaml" is not a format: use table, json, tsv, csv/);
  });

  it('one next-page wording; with --json the list stays an array and the cursor goes to stderr', async () => {
    for (const group of ['accounts', 'trajets', 'reservations', 'payments', 'envois', 'colis', 'zones', 'tokens']) {
      const r = await run([group, 'list', '--limit', '2'], { url: db.url });
      expect(r.stderr, group).toMatch(/^more may follow: add --after \d+ for the next page$/m);
    }
    const a = await run(['audit', 'list', '--limit', '1'], { url: db.url });
    expect(a.stderr).toMatch(/^more may follow: add --before \d+ for the next page$/m);
    const j = await runJson<Array<{ id: number }>>(['accounts', 'list', '--limit', '2'], { url: db.url });
    expect(Array.isArray(j.data)).toBe(true);
    expect(JSON.parse(j.stderr.trim())).toEqual({ next_after: j.data[1]!.id });
  });

  it('numbers grouped in tables, plain in tsv and JSON', async () => {
    const t = await runTty(['stats', '--no-pager', '--no-color'], { url: db.url, cols: 120 });
    expect(t.output).toMatch(/\d,\d{3}/);
    const p = await run(['reservations', 'list', '--limit', '1', '--after', '999', '--columns', 'id'], { url: db.url });
    expect(p.stdout).toBe('id\n1000\n');
  });

  it('Ctrl-C while a long table is being drawn: exit 130, the rest is not drawn', async () => {
    const child = spawnTty(['reservations', 'list', '--limit', '4000', '--no-pager'], { url: db.url, cols: 120 });
    let output = '';
    let first: () => void;
    const firstData = new Promise<void>((r) => (first = r));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      first();
    });
    const closed = new Promise<number | null>((r) => child.on('close', r));
    await firstData;
    // Stop reading: the terminal fills up and the command is held in the middle of its table.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 300));
    const pid = childOf(child.pid!);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGINT');
    child.stdout.resume();
    expect(await closed).toBe(130);
    expect(output).toMatch(/error: interrupted/);
    expect(output.replace(/\r/g, '').split('\n').filter((l) => /^ *\d+ +#/.test(l)).length).toBeLessThan(4000);
  });

  it('long output goes through the pager on a terminal (BILLETTIGUE_PAGER), never with --no-pager or when piped', async () => {
    const env = { BILLETTIGUE_PAGER: 'sed "s/^/paged: /"' };
    const paged = await runTty(['accounts', 'list', '--limit', '20', '--no-color'], { url: db.url, rows: 10, env });
    expect(paged.code).toBe(0);
    expect(paged.output).toMatch(/^paged: ID +EMAIL/m);
    // The next-page hint comes after the paged result, not before it.
    expect(paged.output.indexOf('more may follow')).toBeGreaterThan(paged.output.lastIndexOf('paged: '));
    const short = await runTty(['roles', 'list', '--no-color'], { url: db.url, rows: 10, env });
    expect(short.output).not.toContain('paged: ');
    const off = await runTty(['accounts', 'list', '--limit', '20', '--no-pager'], { url: db.url, rows: 10, env });
    expect(off.output).not.toContain('paged: ');
    const piped = await run(['accounts', 'list', '--limit', '20'], { url: db.url, env });
    expect(piped.stdout).not.toContain('paged: ');
  });

  it('times in one zone: the machine\'s by default (named in the header), --utc or BILLETTIGUE_TZ; JSON stays UTC', async () => {
    const paris = await run(['-o', 'table', 'trajets', 'show', '2'], { url: db.url, env: { TZ: 'Europe/Paris' } });
    const utc = await run(['-o', 'table', '--utc', 'trajets', 'show', '2'], { url: db.url, env: { TZ: 'Europe/Paris' } });
    const tokyo = await run(['-o', 'table', 'trajets', 'show', '2'], { url: db.url, env: { BILLETTIGUE_TZ: 'Asia/Tokyo' } });
    const json = await runJson<{ departure_time: string }>(['trajets', 'show', '2'], { url: db.url, env: { BILLETTIGUE_TZ: 'Asia/Tokyo' } });
    const at = new Date(json.data.departure_time);
    expect(json.data.departure_time).toMatch(/Z$/);
    const fmt = (zone: string) => new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(at);
    expect(paris.stdout).toContain(`departure (Europe/Paris): ${fmt('Europe/Paris')}`);
    expect(utc.stdout).toContain(`departure (UTC): ${fmt('UTC')}`);
    expect(tokyo.stdout).toContain(`departure (Asia/Tokyo): ${fmt('Asia/Tokyo')}`);
    const bad = await run(['trajets', 'list'], { url: db.url, env: { BILLETTIGUE_TZ: 'Mars/Olympus' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: BILLETTIGUE_TZ="Mars\/Olympus" is not a time zone/);
  });

  it('impossible dates are refused (exit 2) by every option that takes a date, nothing rolls over', async () => {
    const cases: string[][] = [
      ['tokens', 'purge', '--expired-before', '2026-02-30', '--dry-run'],
      ['maintenance', 'archive', '--older-than', '2026-02-30', '--dry-run'],
      ['seed', 'demo', '--now', '2026-02-30', '--dry-run'],
      ['accounts', 'list', '--created-since', '2026-02-30'],
      ['envois', 'list', '--since', '2026-02-30'],
      ['audit', 'list', '--since', '2026-02-30'],
      ['stats', '--since', '2026-02-30'],
      ['reservations', 'list', '--since', '2026-02-30'],
      ['payments', 'list', '--since', '2026-02-30'],
      ['trajets', 'list', '--date', '2026-02-30'],
      ['trajets', 'list', '--between', '2026-02-01', '2026-02-30'],
    ];
    for (const args of cases) {
      const r = await run(args, { url: db.url });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: .*"2026-02-30" is not a real calendar day/);
    }
  });
});
