/**
 * `npm run bench -- bookings`: 100,000 trajets and 1,000,000 reservations with their paiements on
 * MariaDB (BENCH_SIZE=small: 2,000 and 20,000), then
 * - query time of `trajets list --from X --to Y --date D` (the domain call: all its queries),
 *   over many routes and local days, cities typed without accents; target < 50 ms. The EXPLAIN of
 *   the query is printed and must show the route index (departure_city, arrival_city,
 *   departure_time);
 * - whole-process time of the built binary for the same command (figure only);
 * - sustained `reservations create` throughput from one process: the domain function plus its
 *   audit row, each booking its own transaction, in a loop; once on one connection (sequential),
 *   once with 8 loops sharing the process's pool; target >= 500/s. The commit (fsync) latency of
 *   the server is measured too: a single connection cannot commit faster than that.
 * Data: INSERT … SELECT from MariaDB's sequence engine (seq_1_to_N) in chunks; statuses, amounts and
 * seat counts follow docs/rules.md, and the invariant check runs on the result. The database is
 * dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { median, runBinary } from './support/process.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { rawRows } from '../src/db/dialect.js';
import { foldText } from '../src/db/text.js';
import { fromDbTime } from '../src/db/values.js';
import { seedRoles } from '../seeds/default.js';
import { parseDay, trajetListQuery, listTrajets } from '../src/domain/trajets.js';
import { bookingInvariantViolations, createReservation } from '../src/domain/reservations.js';
import { writeAudit } from '../src/domain/audit.js';


const CITIES = [
  'Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nice', 'Nantes', 'Montpellier', 'Strasbourg', 'Bordeaux', 'Lille',
  'Rennes', 'Reims', 'Saint-Étienne', 'Le Havre', 'Toulon', 'Grenoble', 'Dijon', 'Angers', 'Nîmes', 'Villeurbanne',
  'Clermont-Ferrand', 'Le Mans', 'Aix-en-Provence', 'Brest', 'Tours', 'Amiens', 'Limoges', 'Annecy', 'Perpignan', 'Orléans',
];
const RESERVATIONS_PER_TRAJET = 10;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function load(): string {
  return `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
}

function localDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** ids of a table filled by INSERT … SELECT must be contiguous for the arithmetic below. */
async function idRange(knex: Knex, table: string, where = '1 = 1', contiguous = true): Promise<{ lo: number; hi: number; n: number }> {
  const [r] = await rawRows<{ lo: number; hi: number; n: number }>(knex, `select min(id) lo, max(id) hi, count(*) n from ${table} where ${where}`);
  if (!r) throw new Error(`${table} is empty`);
  if (contiguous && Number(r.hi) - Number(r.lo) + 1 !== Number(r.n)) throw new Error(`${table} ids are not contiguous; cannot derive references`);
  return { lo: Number(r.lo), hi: Number(r.hi), n: Number(r.n) };
}

async function generate(knex: Knex, size: BenchContext['size'], log: (m: string) => void): Promise<void> {
  const nTrajets = size === 'small' ? 2_000 : 100_000;
  const nCarriers = size === 'small' ? 50 : 1_000;
  const nUsers = size === 'small' ? 500 : 20_000;
  try {
    await knex.raw('select seq from seq_1_to_1');
  } catch {
    throw new Error('this benchmark needs MariaDB (its sequence engine, seq_1_to_N)');
  }
  await knex.raw('SET SESSION foreign_key_checks = 0, unique_checks = 0');
  const roleRows = (await knex('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
  const roles: Record<string, number> = Object.fromEntries(roleRows.map((r) => [r.name, r.id]));
  if (!roles.transporteur || !roles.user) throw new Error('roles missing: seed them first');
  let t0 = performance.now();
  await knex.raw(
    `INSERT INTO comptes (email, password_hash, status, role_id, created_at, updated_at)
     SELECT CONCAT('carrier', seq, '@bench.example'), 'x', 'active', ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM seq_1_to_${nCarriers}`,
    [roles.transporteur!],
  );
  await knex.raw(
    `INSERT INTO transporteurs (phone_number, company_name, company_type, compte_id, created_at, updated_at)
     SELECT '+33611223344', CONCAT('Cars ', id), IF(id % 3 = 0, 'mixte', 'passagers'), id, UTC_TIMESTAMP(), UTC_TIMESTAMP()
       FROM comptes WHERE role_id = ? ORDER BY id`,
    [roles.transporteur!],
  );
  await knex.raw(
    `INSERT INTO comptes (email, password_hash, status, role_id, created_at, updated_at)
     SELECT CONCAT('user', seq, '@bench.example'), 'x', 'active', ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM seq_1_to_${nUsers}`,
    [roles.user!],
  );
  const carriers = await idRange(knex, 'transporteurs');
  const users = await idRange(knex, 'comptes', `role_id = ${Number(roles.user)}`);

  // Trajets: 30 cities (870 routes), departures spread over a year around now, 10–50 seats.
  const cityList = CITIES.map(() => '?').join(', ');
  const chunk = 50_000;
  for (let from = 1; from <= nTrajets; from += chunk) {
    const to = Math.min(nTrajets, from + chunk - 1);
    await knex.raw(
      `INSERT INTO trajets (departure_city, arrival_city, departure_time, price, seats_count, available_seats, status,
                            accepts_packages, transporteur_id, created_at, updated_at)
       SELECT ELT(1 + seq % 30, ${cityList}),
              ELT(1 + (seq % 30 + 1 + (seq DIV 30) % 29) % 30, ${cityList}),
              DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00') - INTERVAL 183 DAY + INTERVAL ((seq * 7919) % (366 * 24 * 4)) * 15 MINUTE,
              (500 + (seq * 37) % 9000) / 100,
              10 + seq % 41, 10 + seq % 41, 'active', seq % 4 <> 0, ${carriers.lo} + seq % ${carriers.n},
              UTC_TIMESTAMP(), UTC_TIMESTAMP()
         FROM seq_${from}_to_${to}`,
      [...CITIES, ...CITIES],
    );
  }
  await knex.raw(`UPDATE trajets SET status = IF(id % 20 = 0, 'cancelled', 'completed') WHERE departure_time < UTC_TIMESTAMP()`);
  await knex.raw(`UPDATE trajets SET status = 'suspended' WHERE departure_time >= UTC_TIMESTAMP() AND id % 50 = 1`);
  await knex.raw(`UPDATE trajets SET status = 'cancelled' WHERE departure_time >= UTC_TIMESTAMP() AND id % 40 = 3`);
  log(`${nTrajets.toLocaleString('en')} trajets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Reservations: 10 per trajet (1 seat each), statuses consistent with the trajet's (docs/rules.md).
  t0 = performance.now();
  // (Separate INSERT … SELECT statements may leave auto-increment gaps: walk the id range.)
  const trajets = await idRange(knex, 'trajets', '1 = 1', false);
  const perChunk = 10_000;
  for (let lo = trajets.lo; lo <= trajets.hi; lo += perChunk) {
    await knex.transaction(async (trx) => {
      await trx.raw(
        `INSERT INTO reservations (reservation_date, passenger_first_name, passenger_last_name, phone_number, status,
                                   seats_reserved, refundable_option, refund_supplement_amount, total_amount, trajet_id, compte_id,
                                   created_at, updated_at)
         SELECT x.rdate, 'Passager', CONCAT('N', x.tid, '-', x.k), '+33612345678', x.status, 1, x.refundable,
                IF(x.refundable, ROUND(x.price * 0.10, 2), 0), x.price + IF(x.refundable, ROUND(x.price * 0.10, 2), 0),
                x.tid, x.compte, x.rdate, x.rdate
           FROM (SELECT t.id tid, s.seq k, t.price,
                        LEAST(t.departure_time - INTERVAL (1 + (t.id * s.seq) % 500) HOUR, UTC_TIMESTAMP()) rdate,
                        CASE
                          WHEN t.status = 'completed' THEN IF(s.seq <= 7, 'completed', 'cancelled')
                          WHEN t.status = 'cancelled' THEN IF(s.seq <= 6, 'refunded', 'cancelled')
                          WHEN s.seq <= 4 THEN 'confirmed'
                          WHEN s.seq <= 7 THEN 'pending'
                          WHEN s.seq = 9 THEN 'refunded'
                          ELSE 'cancelled'
                        END status,
                        IF(s.seq = 9, 1, (t.id + s.seq) % 3 = 0) refundable,
                        IF(s.seq % 2 = 0, ${users.lo} + (t.id * 7 + s.seq) % ${users.n}, NULL) compte
                   FROM trajets t JOIN seq_1_to_${RESERVATIONS_PER_TRAJET} s
                  WHERE t.id BETWEEN ? AND ?) x
          ORDER BY x.tid, x.k`,
        [lo, lo + perChunk - 1],
      );
      // Paiement pairs: pending/pending, confirmed|completed/completed, cancelled/failed (or
      // completed when it was paid and not refundable), refunded/refunded.
      await trx.raw(
        `INSERT INTO paiements (amount, status, payment_date, reservation_id, created_at, updated_at)
         SELECT r.total_amount,
                CASE r.status WHEN 'pending' THEN 'pending' WHEN 'refunded' THEN 'refunded'
                              WHEN 'cancelled' THEN IF(r.refundable_option = 0 AND r.id % 5 = 0, 'completed', 'failed')
                              ELSE 'completed' END,
                r.reservation_date, r.id, r.reservation_date, r.reservation_date
           FROM reservations r WHERE r.trajet_id BETWEEN ? AND ? ORDER BY r.id`,
        [lo, lo + perChunk - 1],
      );
    });
  }
  await knex.raw(
    `UPDATE trajets t JOIN (SELECT trajet_id, SUM(seats_reserved) s FROM reservations WHERE status IN ('pending', 'confirmed') GROUP BY trajet_id) x
        ON x.trajet_id = t.id
        SET t.available_seats = t.seats_count - x.s`,
  );
  log(`${(trajets.n * RESERVATIONS_PER_TRAJET).toLocaleString('en')} reservations + paiements in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await knex.raw('SET SESSION foreign_key_checks = 1, unique_checks = 1');
  await knex.raw('ANALYZE TABLE trajets, reservations, paiements');
}

async function listQueryTimes(knex: Knex, samples: number, log: (m: string) => void): Promise<{ times: number[]; explain: Array<Record<string, unknown>>; example: string[]; found: number }> {
  const max = await maxId(knex, 'trajets');
  const ids = Array.from({ length: samples }, (_, i) => 1 + ((i * 104_729) % max));
  const picks = await rawRows<{ departure_city: string; arrival_city: string; departure_time: string }>(
    knex,
    `SELECT departure_city, arrival_city, departure_time FROM trajets WHERE id IN (${ids.join(', ')})`,
  );
  const queries = picks.map((p) => ({
    from: foldText(p.departure_city), // typed without accents: "saint-etienne", "orleans"
    to: foldText(p.arrival_city).toUpperCase(),
    day: localDay(fromDbTime(p.departure_time)),
  }));
  const run = (q: (typeof queries)[number]) => listTrajets(knex, { from: q.from, to: q.to, range: parseDay(q.day), limit: 50 });
  for (const q of queries.slice(0, 3)) await run(q); // warm
  const times: number[] = [];
  let found = 0;
  for (const q of queries) {
    const t0 = performance.now();
    const rows = await run(q);
    times.push(performance.now() - t0);
    found += rows.length;
  }
  const q = queries[0]!;
  const { query } = await trajetListQuery(knex, { from: q.from, to: q.to, range: parseDay(q.day), limit: 50 });
  const { sql, bindings } = query.toSQL();
  const explain = await rawRows<Record<string, unknown>>(knex, `EXPLAIN ${sql}`, bindings);
  log(`EXPLAIN trajets list --from ${q.from} --to ${q.to} --date ${q.day}:`);
  for (const row of explain) {
    log(`  table=${row.table} type=${row.type} key=${row.key} key_len=${row.key_len} rows=${row.rows} extra=${row.Extra ?? ''}`);
  }
  return { times, explain, example: ['trajets', 'list', '--from', q.from, '--to', q.to, '--date', q.day], found };
}

async function maxId(knex: Knex, table: string): Promise<number> {
  const [r] = await rawRows<{ m: number }>(knex, `select max(id) m from ${table}`);
  return Number(r!.m);
}

/** Bookings on many future active trajets, `workers` loops at once, each booking its own transaction. */
async function createThroughput(knex: Knex, ids: number[], workers: number, seconds: number): Promise<{ rate: number; done: number }> {
  let next = 0;
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const trajetId = ids[next++ % ids.length]!;
        await knex.transaction(async (trx) => {
          const r = await createReservation(
            trx,
            { trajetId, firstName: 'Bench', lastName: 'Mark', phone: '+33612345678', seats: 1, refundable: done % 2 === 0 },
            { refundRateBp: 1000 },
          );
          await writeAudit(trx, { actor: 'bench', action: 'reservations.create', targetType: 'reservation', targetId: r.id, after: { total_amount: r.total_amount } });
        });
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - t0) / 1000), done };
}

/** The server's commit latency: the floor of one connection's transactions. */
async function commitLatency(knex: Knex, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await knex.transaction(async (trx) => {
      await writeAudit(trx, { actor: 'bench', action: 'bench.commit' });
    });
  }
  return (performance.now() - t0) / n;
}

const bench: BenchModule = {
  title: 'bookings: trajets list by route and day, reservations create throughput (MariaDB)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const name = `bt_bench_bookings_${randomBytes(4).toString('hex')}`;
    const admin = await connect(parseDatabaseUrl(ctx.mysqlUrl, '--db'), { noDatabase: true });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
    const url = `${ctx.mysqlUrl}/${name}`;
    const knex = await connect(parseDatabaseUrl(url, '--db'), { pool: { max: 8 } });
    const results: BenchResult[] = [];
    try {
      await migrateLatest(knex);
      await knex.transaction((trx) => seedRoles(trx));
      const t0 = performance.now();
      await generate(knex, ctx.size, ctx.log);
      const counts = await rawRows<{ t: number; r: number; p: number }>(
        knex,
        'select (select count(*) from trajets) t, (select count(*) from reservations) r, (select count(*) from paiements) p',
      );
      const c = counts[0]!;
      results.push({
        name: 'data: trajets / reservations / paiements',
        value: Number(c.r),
        unit: 'reservations',
        note: `${Number(c.t).toLocaleString('en')} trajets, ${Number(c.r).toLocaleString('en')} reservations, ${Number(c.p).toLocaleString('en')} paiements in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      });
      const violations = await bookingInvariantViolations(knex, { limit: 5 });
      results.push({ name: 'invariant violations in the generated data', value: violations.length, unit: '', target: '0', ok: violations.length === 0, note: violations[0] });

      // 1. trajets list --from X --to Y --date D
      ctx.log(`measuring trajets list (${load()})`);
      const list = await listQueryTimes(knex, ctx.size === 'small' ? 30 : 200, ctx.log);
      const tableRow = list.explain.find((r) => r.table === 't');
      const key = String(tableRow?.key ?? '');
      const p50 = median(list.times);
      results.push({
        name: 'trajets list --from X --to Y --date D (query, median)',
        value: p50,
        unit: 'ms',
        target: '< 50 ms',
        ok: p50 < 50 && key === 'trajets_route_time_index',
        note: `${list.times.length} routes×days, p95 ${percentile(list.times, 95).toFixed(2)} ms, max ${Math.max(...list.times).toFixed(2)} ms, ${list.found} trajets found; EXPLAIN: key=${key} type=${tableRow?.type} rows=${tableRow?.rows}`,
      });
      const proc: number[] = [];
      await runBinary(list.example, url);
      for (let i = 0; i < 5; i++) proc.push(await runBinary(list.example, url));
      results.push({ name: 'billettigue trajets list --from --to --date (whole process, median)', value: median(proc), unit: 'ms', note: list.example.slice(2).join(' ') });

      // 2. reservations create throughput
      const future = (await knex('trajets')
        .where('status', 'active')
        .andWhere('departure_time', '>', knex.raw('UTC_TIMESTAMP() + INTERVAL 1 DAY'))
        .andWhere('available_seats', '>=', 5)
        .orderBy('id')
        .limit(20_000)
        .pluck('id')) as number[];
      const seconds = ctx.size === 'small' ? 2 : 10;
      ctx.log(`measuring reservations create for ${seconds} s per mode on ${future.length} trajets (${load()})`);
      // Warm-up, not measured: after the bulk load and the full scans of the invariant check, the
      // pages a booking touches (trajet rows, the (trajet_id, status) index) are not all in the
      // buffer pool yet; sustained throughput is the steady state.
      const warm = await createThroughput(knex, future, 4, ctx.size === 'small' ? 1 : 5);
      ctx.log(`warm-up: ${warm.done} bookings`);
      const commitMs = await commitLatency(knex, ctx.size === 'small' ? 50 : 300);
      results.push({ name: 'server commit latency (1 row, 1 connection)', value: commitMs, unit: 'ms', note: `a single connection cannot exceed ~${Math.round(1000 / commitMs)} commits/s (innodb_flush_log_at_trx_commit=1)` });
      const seq = await createThroughput(knex, future, 1, seconds);
      // One connection waits for each commit's fsync: its ceiling is the server's commit latency
      // (row above), which varies with the machine's other I/O; the note says how much of each
      // booking it was.
      results.push({
        name: 'reservations create, one loop (sequential transactions)',
        value: seq.rate,
        unit: '/s',
        target: '>= 500/s',
        ok: seq.rate >= 500,
        note: `${seq.done} bookings in ${seconds} s, ${(1000 / seq.rate).toFixed(2)} ms each of which ~${commitMs.toFixed(2)} ms commit; ${load()}`,
      });
      const par = await createThroughput(knex, future, 8, seconds);
      results.push({
        name: 'reservations create, one process: 8 loops on its 8-connection pool',
        value: par.rate,
        unit: '/s',
        target: '>= 500/s',
        ok: par.rate >= 500,
        note: `${par.done} bookings in ${seconds} s, group commit; ${load()}`,
      });
      const after = await bookingInvariantViolations(knex, { limit: 5 });
      results.push({ name: 'invariant violations after the runs', value: after.length, unit: '', target: '0', ok: after.length === 0, note: after[0] });
      return results;
    } finally {
      await knex.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    }
  },
};

export default bench;
