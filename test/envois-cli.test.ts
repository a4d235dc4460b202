/**
 * The real binary, as a new user would run it, on MariaDB and SQLite: find a carrier serving the
 * city, create an envoi of three colis, follow it to delivered with one colis lost on the way, and
 * read the totals. Then the bad inputs: each exits with the contract's code, names the problem,
 * and leaves the database unchanged.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { ENVOI_TABLES, makeTransporteur, makeUtilisateur, type Party } from './envois-fixtures.js';
import type { EnvoiDetail } from '../src/domain/envois.js';
import type { ZoneView } from '../src/domain/zones.js';

describe.each(testedKinds())('envois through the binary on %s', (kind) => {
  let db: TestDb;
  let sender: Party;
  let carrier: Party;

  beforeAll(async () => {
    db = await createTestDb(kind);
    sender = await makeUtilisateur(db.knex, { email: 'jeanne.dupont@example.fr', firstName: 'Jeanne', lastName: 'Dupont' });
    carrier = await makeTransporteur(db.knex, { email: 'loire@example.fr', companyName: 'Transports Loire', companyType: 'colis' });
    await makeTransporteur(db.knex, { email: 'cars@example.fr', companyName: 'Cars Centre', companyType: 'passagers' });
  });
  afterAll(async () => db?.drop());

  const opts = () => ({ url: db.url });

  it('create three colis for a carrier serving the city, follow to delivered, lose one, totals right', async () => {
    const added = await run(['zones', 'add', '--transporteur', 'loire@example.fr', '--city', 'Orléans', '--region', 'Centre-Val de Loire', '--frequency', 'daily'], opts());
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('added zone');

    // "Who can pick up a parcel in Orleans?" — typed without the accent.
    const zones = await runJson<ZoneView[]>(['zones', 'list', '--city', 'orleans', '--serves', 'pickup'], opts());
    expect(zones.code).toBe(0);
    expect(zones.data).toHaveLength(1);
    expect(zones.data[0]).toMatchObject({ city_name: 'Orléans', transporteur_id: carrier.id, transporteur_company_type: 'colis' });

    const created = await runJson<EnvoiDetail>(
      [
        'envois', 'create',
        '--expediteur', 'jeanne.dupont@example.fr',
        '--transporteur', String(carrier.compteId), // the account id, as `accounts list` shows it
        '--description', 'Déménagement',
        '--recipient-name', 'Paul Martin',
        '--recipient-phone', '06 12 34 56 78',
        '--colis', 'Livres:2.5:30x20x10',
        '--colis', 'Vaisselle:4',
        '--colis', 'Lampe:1.25:40 x 25 x 25',
      ],
      opts(),
    );
    expect(created.code, created.stderr).toBe(0);
    const e = created.data;
    expect(e).toMatchObject({ status: 'pending', compte_id: sender.compteId, recipient_phone: '+33612345678' });
    expect(e.totals).toMatchObject({ colis: 3, weight: '7.75', shipping_cost: '26.63' });
    expect(e.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

    for (const verb of ['accept', 'ship']) {
      const r = await run(['envois', verb, String(e.id)], opts());
      expect(r.code, r.stderr).toBe(0);
    }
    const lostId = e.colis[1]!.id;
    const lost = await runJson<{ status: string; envoi: { status: string } }>(['colis', 'mark-lost', String(lostId), '--yes', '--reason', 'not at the depot'], opts());
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.data).toMatchObject({ status: 'lost', envoi: { status: 'in_transit' } });

    const delivered = await run(['envois', 'deliver', String(e.id)], opts());
    expect(delivered.code, delivered.stderr).toBe(0);
    expect(delivered.stderr).toContain(`moved envoi ${e.id}: in_transit → delivered (2 colis delivered, 1 lost)`);

    const shown = await runJson<EnvoiDetail>(['envois', 'show', String(e.id)], opts());
    expect(shown.data.status).toBe('delivered');
    expect(shown.data.colis.map((c) => [c.description, c.status, c.shipping_cost])).toEqual([
      ['Livres', 'delivered', '8.75'],
      ['Vaisselle', 'lost', '11.00'],
      ['Lampe', 'delivered', '6.88'],
    ]);
    expect(shown.data.totals).toMatchObject({
      colis: 3,
      weight: '7.75',
      shipping_cost: '26.63',
      by_status: {
        delivered: { colis: 2, weight: '3.75', shipping_cost: '15.63' },
        lost: { colis: 1, weight: '4.00', shipping_cost: '11.00' },
        shipped: { colis: 0 },
      },
    });

    // The same piped: tab-separated lines with the delivered / lost split, no box drawing.
    const table = await run(['envois', 'show', String(e.id)], opts());
    expect(table.stdout).not.toMatch(/[│┌┐└┘├┤┬┴┼─]/);
    const flat = table.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('all colis 3 7.75 26.63');
    expect(flat).toContain('delivered 2 3.75 15.63');
    expect(flat).toContain('lost 1 4.00 11.00');
    expect(table.stderr).toBe('');

    const listed = await runJson<Array<Record<string, unknown>>>(['envois', 'list', '--transporteur', 'loire@example.fr', '--status', 'delivered'], opts());
    expect(listed.data).toEqual([
      expect.objectContaining({ id: e.id, colis_count: 3, lost_count: 1, total_weight: '7.75', total_shipping_cost: '26.63' }),
    ]);

    const audit = await runJson<Array<{ action: string; reason: string | null }>>(['audit', 'list', '--action', 'envois.'], opts());
    expect(audit.data.map((a) => a.action)).toEqual(['envois.deliver', 'envois.ship', 'envois.accept', 'envois.create']);
    const colisAudit = await runJson<Array<{ action: string; reason: string | null }>>(['audit', 'list', '--target', `colis:${lostId}`], opts());
    expect(colisAudit.data).toEqual([expect.objectContaining({ action: 'colis.mark-lost', reason: 'not at the depot' })]);
  });

  describe('bad input exits with the right code and changes nothing', () => {
    const base = () => [
      'envois', 'create',
      '--expediteur', String(sender.id),
      '--transporteur', String(carrier.compteId),
      '--description', 'Cartons',
      '--recipient-name', 'Paul Martin',
      '--recipient-phone', '+33612345678',
    ];
    const file = (name: string, content: string) => {
      const p = path.join(db.dir, name);
      writeFileSync(p, content);
      return p;
    };
    const cases: Array<[string, () => string[], number, RegExp]> = [
      ['a weight that is not a number', () => [...base(), '--colis', 'A:1', '--colis', 'B:abc'], 2, /^error: --colis entry 2: weight "abc" is not a weight/],
      ['malformed dimensions', () => [...base(), '--colis', 'A:1:30x20'], 2, /--colis entry 1: dimensions "30x20" is not L x l x H/],
      ['an empty colis list', () => base(), 2, /needs at least one colis/],
      ['a malformed --colis-file', () => [...base(), '--colis-file', file('c.json', '[{"description":"a","weight":1},{"description":"b","weight":"x"}]')], 2, /--colis-file entry 2: weight "x" is not a weight/],
      ['a --colis-file with an unknown field', () => [...base(), '--colis-file', file('d.json', '[{"description":"a","weigth":1}]')], 2, /--colis-file entry 1: unknown field "weigth"/],
      ['both --colis and --colis-file', () => [...base(), '--colis', 'A:1', '--colis-file', file('g.json', '[]')], 2, /choose one of --colis and --colis-file/],
      ['an unknown sender', () => [...base().slice(0, 2), '--expediteur', 'personne@example.fr', ...base().slice(4), '--colis', 'A:1'], 3, /no account with email personne@example.fr/],
      ['a carrier that does not carry parcels', () => [...base().slice(0, 4), '--transporteur', 'cars@example.fr', ...base().slice(6), '--colis', 'A:1'], 2, /does not carry parcels \(company_type passagers\)/],
      ['a forbidden transition', () => ['envois', 'ship', String(pending.envoi)], 4, /envoi \d+ is pending: it cannot become in_transit \(ship works only from accepted\)/],
      ['a cancel without --yes', () => ['envois', 'cancel', String(pending.envoi)], 2, /re-run with --yes/],
      ['bad dimensions in colis update', () => ['colis', 'update', String(pending.colis), '--dimensions', '20 by 30'], 2, /--dimensions "20 by 30" is not L x l x H/],
      ['a second zone for the same city', () => ['zones', 'add', '--transporteur', String(carrier.compteId), '--city', 'ORLÉANS'], 4, /already serves Orléans \(zone id \d+\)/],
      ['a zone type that does not exist', () => ['zones', 'add', '--transporteur', String(carrier.compteId), '--city', 'Tours', '--type', 'pickup'], 2, /--type "pickup" is not allowed: use one of pickup_only, delivery_only, both/],
      ['a dry run', () => [...base(), '--colis', 'A:1', '--dry-run'], 0, /dry run: the changes were rolled back/],
    ];
    const pending = { envoi: 0, colis: 0 };
    beforeAll(async () => {
      // A pending envoi with one colis, for the cancel/mark-lost/update cases.
      const r = await runJson<EnvoiDetail>([...base(), '--colis', 'Seul:1'], { url: db.url });
      expect(r.code, r.stderr).toBe(0);
      pending.envoi = r.data.id;
      pending.colis = r.data.colis[0]!.id;
    });
    it.each(cases)('%s', async (_name, args, code, message) => {
      const before = await snapshot(db.knex, ENVOI_TABLES);
      const r = await run(args(), opts());
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      if (code !== 0) {
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(await snapshot(db.knex, ENVOI_TABLES)).toEqual(before);
    });

    it('shipping rates too large for shipping_cost: exit 2 on both databases, nothing written', async () => {
      const before = await snapshot(db.knex, ENVOI_TABLES);
      const r = await run([...base(), '--colis', 'A:2'], { ...opts(), env: { BILLETTIGUE_COLIS_PER_KG: '6000000000' } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(
        'error: a colis of 2.00 kg would cost more than 99999999.99, the most shipping_cost can hold: check BILLETTIGUE_COLIS_BASE and BILLETTIGUE_COLIS_PER_KG',
      );
      expect(r.stdout).toBe('');
      expect(await snapshot(db.knex, ENVOI_TABLES)).toEqual(before);
    });

    it('a zone may have a capacity of 0 kg (the seed allows it), not a negative one', async () => {
      const ok = await runJson<ZoneView>(['zones', 'add', '--transporteur', String(carrier.compteId), '--city', 'Blois', '--max-weight', '0'], opts());
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.data).toMatchObject({ city_name: 'Blois', max_weight_capacity: '0.00' });
      const before = await snapshot(db.knex, ENVOI_TABLES);
      const bad = await run(['zones', 'add', '--transporteur', String(carrier.compteId), '--city', 'Vendôme', '--max-weight', '-1'], opts());
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: --max-weight "-1" is not a weight/);
      expect(await snapshot(db.knex, ENVOI_TABLES)).toEqual(before);
    });

    it('--json errors carry the entry', async () => {
      const r = await run(['--json', ...base(), '--colis', 'A:1', '--colis', 'B:1:big'], opts());
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr)).toEqual({
        error: { code: 'invalid_dimensions', message: expect.stringContaining('--colis entry 2: dimensions "big"'), details: { entry: 2 } },
      });
    });
  });
});
