/**
 * `billettigue maintenance` end to end (the real binary, both databases): purge-tokens, check (exit
 * 0 clean / 6 violations, table and JSON), archive (bad input is exit 2 and changes nothing,
 * --dry-run, --yes) and archive restore.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, tableCounts, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { plantPlatform, type Planted } from './maintenance-fixtures.js';
import { PRODUCT_TABLES } from '../src/db/schema.js';

interface CheckJson {
  clean: boolean;
  integrity_clean: boolean;
  violation_count: number;
  rules_checked: number;
  rules: Array<{ rule: string; class: string; table: string; description: string; violations: number }>;
  violations: Array<{ rule: string; table: string; id: number; detail: string }>;
  pricing: { violation_count: number; settings: Record<string, string>; violations: unknown[] };
}

describe.each(testedKinds())('billettigue maintenance on %s', (kind) => {
  let db: TestDb;
  let p: Planted;
  const opts = () => ({ url: db.url });
  const counts = () => tableCounts(db.knex, PRODUCT_TABLES);

  beforeAll(async () => {
    db = await createTestDb(kind);
    p = await plantPlatform(db.knex);
  });
  afterAll(async () => db?.drop());

  it('purge-tokens --dry-run counts the expired tokens and changes nothing', async () => {
    const before = await snapshot(db.knex, ['revoked_tokens', 'audit_log']);
    const { code, data } = await runJson<{ dry_run: boolean; would_delete: number; expired_before: string }>(['maintenance', 'purge-tokens', '--dry-run'], opts());
    expect(code).toBe(0);
    expect(data).toMatchObject({ dry_run: true, would_delete: 2 });
    expect(data.expired_before).toMatch(/Z$/);
    expect(await snapshot(db.knex, ['revoked_tokens', 'audit_log'])).toEqual(before);
  });

  it('purge-tokens deletes the expired ones, prints the count and audits it', async () => {
    const r = await run(['maintenance', 'purge-tokens', '--batch-size', '1'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('2 expired revoked tokens deleted');
    expect((await db.knex('revoked_tokens').pluck('id')).map(Number)).toEqual([p.ids.tokActive]);
    const audit = (await db.knex('audit_log').where('action', 'maintenance.purge-tokens').first()) as { actor: string; after_json: string };
    expect(audit.actor).toBe('test-runner');
    expect(JSON.parse(audit.after_json)).toMatchObject({ deleted: 2 });
  });

  it('check is exit 0 on consistent data and says which settings priced the amounts', async () => {
    const r = await run(['maintenance', 'check'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('amounts checked with the current settings: refund rate 10%, colis 5.00 + 1.50/kg');
    expect(r.stderr).toMatch(/clean: \d+ rules hold/);
  });

  it('check lists a planted violation with its id and exits 6 (table and JSON)', async () => {
    await db.knex('trajets').where('id', p.ids.tLater).update({ available_seats: 49 });
    try {
      const r = await run(['maintenance', 'check'], opts());
      expect(r.code).toBe(6);
      expect(r.stdout).toMatch(new RegExp(`trajet_seats_mismatch\\ttrajets\\t${p.ids.tLater}\\tavailable_seats 49, expected 50`));
      expect(r.stderr).toMatch(/^error: 1 violation of 1 rule: trajet_seats_mismatch \(1\)$/m);

      const j = await runJson<CheckJson>(['maintenance', 'check'], opts());
      expect(j.code).toBe(6);
      expect(j.data.clean).toBe(false);
      expect(j.data.violation_count).toBe(1);
      expect(j.data.violations).toEqual([
        { rule: 'trajet_seats_mismatch', table: 'trajets', id: p.ids.tLater, detail: 'available_seats 49, expected 50 (seats_count 50 − 0 seats of live reservations)' },
      ]);
      expect(j.data.rules.find((x) => x.rule === 'trajet_seats_mismatch')?.violations).toBe(1);
      expect(j.data.rules_checked).toBe(j.data.rules.length);
      // Messages (target, settings) precede the error, which is one JSON object on the last line.
      expect(JSON.parse(j.stderr.trim().split('\n').pop()!)).toMatchObject({ error: { code: 'invariants_violated' } });
    } finally {
      await db.knex('trajets').where('id', p.ids.tLater).update({ available_seats: 50 });
    }
  });

  it('check prices with the current settings (BILLETTIGUE_REFUND_RATE): differences are warnings unless --strict-pricing; --rule narrows it', async () => {
    const env = { BILLETTIGUE_REFUND_RATE: '15' };
    const j = await runJson<CheckJson>(['maintenance', 'check', '--rule', 'reservation_supplement_formula'], { ...opts(), env });
    expect(j.code).toBe(0);
    expect(j.data.pricing.settings).toMatchObject({ refund_rate_pct: '15', colis_base: '5.00', colis_per_kg: '1.50' });
    expect(j.data.rules).toEqual([expect.objectContaining({ rule: 'reservation_supplement_formula', class: 'pricing', violations: 5 })]);
    expect(j.data).toMatchObject({ clean: true, integrity_clean: true, violation_count: 0, violations: [] });
    expect(j.data.pricing.violation_count).toBe(5);
    expect(j.data.pricing.violations).toHaveLength(5);
    const t = await run(['maintenance', 'check'], { ...opts(), env });
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^reservation_supplement_formula\treservations\t/m);
    expect(t.stderr).toMatch(/warning: pricing: 5 amount\(s\) differ from the current settings \(reservation_supplement_formula \(5\)\)/);
    expect(t.stderr).toMatch(/integrity clean: \d+ rules hold/);
    const strict = await runJson<CheckJson>(['maintenance', 'check', '--strict-pricing'], { ...opts(), env });
    expect(strict.code).toBe(6);
    expect(strict.data.clean).toBe(false);
    expect(JSON.parse(strict.stderr.trim().split('\n').pop()!)).toMatchObject({ error: { code: 'invariants_violated', message: '5 violations of 1 rule: reservation_supplement_formula (5)' } });
  });

  it('check --rule with an unknown rule is exit 2; --list-rules needs no database work', async () => {
    const bad = await run(['maintenance', 'check', '--rule', 'nope'], opts());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown rule nope: see `billettigue maintenance check --list-rules`/m);
    const list = await runJson<Array<{ rule: string; also_enforced_by: string | null }>>(['maintenance', 'check', '--list-rules'], opts());
    expect(list.code).toBe(0);
    expect(list.data.map((r) => r.rule)).toContain('reservation_paiement_status');
    expect(list.data.find((r) => r.rule === 'check_trajets')?.also_enforced_by).toBe('CHECK');
  });

  it.each([
    [['--older-than', '18x'], /--older-than "18x" is not a duration/],
    [['--older-than', '2999-01-01'], /cutoff 2999-01-01T00:00:00.000Z is in the future/],
    [[], /archive needs --older-than/],
    [['--older-than', '18mo', '--batch-size', '0'], /--batch-size must be a whole number from 1 to 10000/],
    [['--older-than', '18mo'], /confirmation needed, and stdin is not a terminal: re-run with --yes/],
  ])('archive %j is exit 2 with a clear message and changes nothing', async (args, message) => {
    const before = await counts();
    const r = await run(['maintenance', 'archive', ...args], opts());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(await counts()).toEqual(before);
  });

  it('archive --dry-run prints what would move and changes nothing', async () => {
    const before = await counts();
    const j = await runJson<{ dry_run: boolean; would_move: Record<string, number> }>(['maintenance', 'archive', '--older-than', '18mo', '--dry-run'], opts());
    expect(j.code).toBe(0);
    expect(j.data).toMatchObject({ dry_run: true, would_move: { reservations: 6, paiements: 6, envois: 2, colis: 3 } });
    const t = await run(['maintenance', 'archive', '--older-than', '18mo', '--dry-run'], opts());
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^reservations\t6$/m);
    expect(t.stderr).toMatch(/dry run: would move 6 reservation\(s\) with 6 paiement\(s\) and 2 envoi\(s\) with 3 colis/);
    expect(await counts()).toEqual(before);
  });

  it('archive --yes moves the old finished records; check stays clean', async () => {
    const j = await runJson<{ moved: Record<string, number>; batches: number }>(['maintenance', 'archive', '--older-than', '18mo', '--yes', '--batch-size', '4'], opts());
    expect(j.code).toBe(0);
    expect(j.data.moved).toEqual({ reservations: 6, paiements: 6, envois: 2, colis: 3 });
    expect(j.data.batches).toBe(3);
    const c = await tableCounts(db.knex, ['reservations_archive', 'paiements_archive', 'envois_archive', 'colis_archive']);
    expect(c).toEqual({ reservations_archive: 6, paiements_archive: 6, envois_archive: 2, colis_archive: 3 });
    expect((await run(['maintenance', 'check'], opts())).code).toBe(0);
  });

  it('archive restore brings one record back (--dry-run first changes nothing)', async () => {
    const id = p.ids.rOldCompleted!;
    const before = await counts();
    const dry = await runJson<Record<string, unknown>>(['maintenance', 'archive', 'restore', '--id', `reservation:${id}`, '--dry-run'], opts());
    expect(dry.code).toBe(0);
    expect(dry.data).toMatchObject({ type: 'reservation', id, status: 'completed', dry_run: true });
    expect(await counts()).toEqual(before);

    const r = await run(['maintenance', 'archive', 'restore', '--id', `reservation:${id}`, '--reason', 'audit request'], opts());
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`restored reservation ${id} with 1 paiement from the archive`);
    expect(await db.knex('reservations').where('id', id).first()).toBeDefined();
    expect(await db.knex('reservations_archive').where('id', id).first()).toBeUndefined();
    expect((await run(['maintenance', 'check'], opts())).code).toBe(0);
  });

  it('archive restore: a malformed --id is exit 2, an unknown record exit 3', async () => {
    const before = await counts();
    const bad = await run(['maintenance', 'archive', 'restore', '--id', '42'], opts());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/use reservation:ID or envoi:ID/);
    const missing = await run(['maintenance', 'archive', 'restore', '--id', 'envoi:999999'], opts());
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: no archived envoi with id 999999$/m);
    expect(await counts()).toEqual(before);
  });
});
