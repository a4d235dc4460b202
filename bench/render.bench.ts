/**
 * Table rendering (issue 16): 10,000 and 20,000 reservation rows drawn by the real renderer
 * (src/cli/ui.ts) with the columns of `reservations list`, as a 120-column terminal table and as
 * tsv. Target: 10,000 rows in under 1 s; 20,000 rows take about twice as long (linear).
 */
import { Writable } from 'node:stream';
import { Ui } from '../src/cli/ui.js';
import { reservationColumns } from '../src/cli/trajets.js';
import type { ReservationView } from '../src/domain/reservations.js';
import { median } from './support/process.js';
import type { BenchModule, BenchResult } from './types.js';

function rows(n: number): ReservationView[] {
  const out: ReservationView[] = [];
  for (let i = 1; i <= n; i++) {
    out.push({
      id: i,
      trajet_id: 1 + (i % 500),
      compte_id: i % 3 === 0 ? null : 100 + i,
      passenger_first_name: ['Léa', 'Nathan', 'Chloé', 'Hugo'][i % 4]!,
      passenger_last_name: ['Martin', 'Bernard', 'Dubois', 'Lefèvre-Durand'][i % 4]!,
      phone_number: `+3361234${String(i).padStart(4, '0')}`,
      seats_reserved: 1 + (i % 4),
      status: 'confirmed',
      refundable_option: i % 2 === 0,
      refund_supplement_amount: '1.50',
      total_amount: `${(i % 900) + 10}.50`,
      reservation_date: new Date(Date.UTC(2026, 10, 1, 0, i % 1440)).toISOString(),
      account_email: i % 3 === 0 ? null : `passenger${i}@demo.billettigue.test`,
      paiement: { id: i, status: 'completed', amount: `${(i % 900) + 10}.50`, payment_date: '2026-11-02T10:00:00.000Z' },
      trajet: { id: 1 + (i % 500), departure_city: 'Saint-Brieuc', arrival_city: 'Saint-Nazaire', departure_time: '2026-12-01T08:30:00.000Z', status: 'active' },
    } as unknown as ReservationView);
  }
  return out;
}

class Sink extends Writable {
  bytes = 0;
  isTTY: boolean;
  columns = 120;
  rows = 50;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.bytes += chunk.length;
    cb();
  }
}

async function render(n: number, format: 'table' | 'tsv'): Promise<number> {
  const data = rows(n);
  const stdout = new Sink(format === 'table') as unknown as NodeJS.WriteStream;
  const stderr = new Sink(false) as unknown as NodeJS.WriteStream;
  const ui = new Ui({ json: false, quiet: true, color: false, format, pager: false }, stdout, stderr);
  const t0 = performance.now();
  await ui.list(data, reservationColumns());
  return performance.now() - t0;
}

const bench: BenchModule = {
  title: 'rendering (reservations list columns, in process, median of 5)',
  async run(ctx) {
    const results: BenchResult[] = [];
    await render(1000, 'table'); // warm-up
    for (const format of ['table', 'tsv'] as const) {
      const t10s: number[] = [];
      const t20s: number[] = [];
      for (let i = 0; i < 5; i++) {
        t10s.push(await render(10_000, format));
        t20s.push(await render(20_000, format));
      }
      const t10 = median(t10s);
      const t20 = median(t20s);
      ctx.log(`${format}: 10k rows ${t10.toFixed(0)} ms, 20k rows ${t20.toFixed(0)} ms`);
      results.push({ name: `10,000 rows as ${format}`, value: t10, unit: 'ms', target: '< 1000 ms', ok: t10 < 1000 });
      results.push({ name: `20,000 rows as ${format}`, value: t20, unit: 'ms', ratio: t20 / t10, note: 'ratio to 10,000 rows: ≈ 2 when linear' });
    }
    return results;
  },
};

export default bench;
