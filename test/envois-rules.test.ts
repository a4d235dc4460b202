/** Pure rules of envois and colis: the two state machines (every pair), parsing, totals. */
import { describe, expect, it } from 'vitest';
import {
  canMoveColis,
  canMoveEnvoi,
  COLIS_STATUSES_OF_ENVOI,
  COLIS_TARGET_OF_ENVOI,
  COLIS_TRANSITIONS,
  ENVOI_TRANSITIONS,
  ENVOI_VERBS,
  parseColisFile,
  parseColisSpec,
  parseDimensions,
  totalsOf,
} from '../src/domain/envois.js';
import { COLIS_STATUSES, ENVOI_STATUSES, type ColisStatus, type EnvoiStatus } from '../src/db/schema.js';
import { InvalidInput } from '../src/domain/errors.js';
import type { ColisRow } from '../src/db/rows.js';

// docs/rules.md, written out pair by pair (independently of the code's tables).
const ENVOI_ALLOWED = new Set([
  'pending>accepted',
  'pending>cancelled',
  'accepted>in_transit',
  'accepted>cancelled',
  'in_transit>delivered',
]);
const COLIS_ALLOWED = new Set(['pending>packaged', 'packaged>shipped', 'packaged>lost', 'shipped>delivered', 'shipped>lost']);

describe('envoi state machine', () => {
  const pairs = ENVOI_STATUSES.flatMap((from) => ENVOI_STATUSES.map((to) => [from, to] as [EnvoiStatus, EnvoiStatus]));
  it.each(pairs)('%s → %s', (from, to) => {
    expect(canMoveEnvoi(from, to)).toBe(ENVOI_ALLOWED.has(`${from}>${to}`));
  });
  it('covers every status and has final states', () => {
    expect(Object.keys(ENVOI_TRANSITIONS).sort()).toEqual([...ENVOI_STATUSES].sort());
    expect(ENVOI_TRANSITIONS.delivered).toEqual([]);
    expect(ENVOI_TRANSITIONS.cancelled).toEqual([]);
  });
  it('verbs lead to the documented statuses', () => {
    expect(ENVOI_VERBS).toEqual({ accept: 'accepted', ship: 'in_transit', deliver: 'delivered', cancel: 'cancelled' });
  });
});

describe('colis state machine', () => {
  const pairs = COLIS_STATUSES.flatMap((from) => COLIS_STATUSES.map((to) => [from, to] as [ColisStatus, ColisStatus]));
  it.each(pairs)('%s → %s', (from, to) => {
    expect(canMoveColis(from, to)).toBe(COLIS_ALLOWED.has(`${from}>${to}`));
  });
  it('covers every status', () => {
    expect(Object.keys(COLIS_TRANSITIONS).sort()).toEqual([...COLIS_STATUSES].sort());
  });
});

describe('colis follow their envoi', () => {
  it('each envoi move takes its colis to a status consistent with the new envoi status', () => {
    expect(COLIS_TARGET_OF_ENVOI).toEqual({
      pending: null,
      accepted: 'packaged',
      in_transit: 'shipped',
      delivered: 'delivered',
      cancelled: null,
    });
    // For every allowed envoi move, every colis status consistent with the old envoi status ends in
    // one consistent with the new one (lost stays lost, the others move or stay).
    for (const from of ENVOI_STATUSES) {
      for (const to of ENVOI_TRANSITIONS[from]) {
        const target = COLIS_TARGET_OF_ENVOI[to];
        for (const c of COLIS_STATUSES_OF_ENVOI[from]) {
          const end = c === 'lost' || target === null ? c : target;
          if (end !== c) expect(canMoveColis(c, end), `${from}→${to}: colis ${c}→${end}`).toBe(true);
          if (to !== 'cancelled') expect(COLIS_STATUSES_OF_ENVOI[to], `${from}→${to}: colis ${c}`).toContain(end);
          else expect(COLIS_STATUSES_OF_ENVOI.cancelled).toContain(end);
        }
      }
    }
  });
});

describe('parseDimensions', () => {
  it.each([
    ['30x20x10', '30x20x10'],
    ['30 x 20 x 10', '30x20x10'],
    ['30X20X10', '30x20x10'],
    ['30×20×10', '30x20x10'],
    ['30*20*10', '30x20x10'],
    ['  030x20x10 cm ', '30x20x10'],
    ['12.5x20.0x10,5', '12.5x20x10.5'],
  ])('%j → %s', (raw, want) => {
    expect(parseDimensions(raw)).toBe(want);
  });
  it.each(['30x20', '30x20x10x5', 'abc', '', '30x0x10', '30x-2x10', '12.55x20x10', '30x20x10mm', '30;20;10', '12345x1x1'])(
    'refuses %j',
    (raw) => {
      expect(() => parseDimensions(raw, '--dimensions')).toThrow(InvalidInput);
    },
  );
});

describe('parseColisSpec', () => {
  it('reads description, weight and optional dimensions', () => {
    expect(parseColisSpec('Livres:2.5:30x20x10', 1)).toEqual({ description: 'Livres', weight: 250, dimensions: '30x20x10' });
    expect(parseColisSpec('Vaisselle:4', 2)).toEqual({ description: 'Vaisselle', weight: 400, dimensions: null });
    expect(parseColisSpec('Lampe : 1,25 : 40 x 25 x 25', 3)).toEqual({ description: 'Lampe', weight: 125, dimensions: '40x25x25' });
  });
  it('lets the description contain colons (weight and dimensions are read from the end)', () => {
    expect(parseColisSpec('Livres: tome 1:2.5', 1)).toEqual({ description: 'Livres: tome 1', weight: 250, dimensions: null });
    expect(parseColisSpec('Réf: A:B:2:10x10x10', 1)).toEqual({ description: 'Réf: A:B', weight: 200, dimensions: '10x10x10' });
  });
  it.each([
    ['Livres', 2, /--colis entry 2 .*expected "description:weight/],
    ['Livres:abc', 3, /--colis entry 3: weight "abc" is not a weight/],
    ['Livres:0', 1, /--colis entry 1: weight must be greater than 0/],
    ['Livres:-2', 1, /--colis entry 1: weight "-2" is not a weight/],
    ['Livres:2.555', 1, /--colis entry 1: weight/],
    [':2', 4, /--colis entry 4: description is required/],
    ['Livres:2:30x20', 5, /--colis entry 5: dimensions "30x20" is not L x l x H/],
    ['Livres:2:', 1, /--colis entry 1: dimensions "" is not L x l x H/],
  ])('%j (entry %i) is refused naming the entry and the field', (raw, index, msg) => {
    let err: unknown;
    try {
      parseColisSpec(raw, index);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as Error).message).toMatch(msg);
    expect((err as InvalidInput).details).toMatchObject({ entry: index });
  });
});

describe('parseColisFile', () => {
  it('reads an array of {description, weight, dimensions?}', () => {
    const text = JSON.stringify([
      { description: 'Livres', weight: 2.5, dimensions: '30 x 20 x 10' },
      { description: 'Vaisselle', weight: '4' },
      { description: 'Lampe', weight: 1.2, dimensions: null },
    ]);
    expect(parseColisFile(text)).toEqual([
      { description: 'Livres', weight: 250, dimensions: '30x20x10' },
      { description: 'Vaisselle', weight: 400, dimensions: null },
      { description: 'Lampe', weight: 120, dimensions: null },
    ]);
  });
  it.each([
    ['{', /--colis-file: not valid JSON/],
    ['{"description":"x","weight":1}', /expected a JSON array/],
    ['[1]', /--colis-file entry 1: expected an object/],
    ['[{"description":"a","weight":1},{"description":"b","weigth":2}]', /--colis-file entry 2: unknown field "weigth"/],
    ['[{"description":"a","weight":1},{"description":"b"}]', /--colis-file entry 2: weight is required/],
    ['[{"description":"a","weight":-1}]', /--colis-file entry 1: weight "-1" is not a weight/],
    ['[{"description":"a","weight":true}]', /--colis-file entry 1: weight must be a number/],
    ['[{"weight":1}]', /--colis-file entry 1: description is required/],
    ['[{"description":5,"weight":1}]', /--colis-file entry 1: description must be a text/],
    ['[{"description":"a","weight":1,"dimensions":"big"}]', /--colis-file entry 1: dimensions "big"/],
    ['[{"description":"a","weight":1,"dimensions":30}]', /--colis-file entry 1: dimensions must be a text/],
  ])('%s is refused: %s', (text, msg) => {
    expect(() => parseColisFile(text)).toThrow(msg);
  });
  it('an empty array parses (the create refuses it as an empty colis list)', () => {
    expect(parseColisFile('[]')).toEqual([]);
  });
});

describe('totalsOf', () => {
  it('sums exactly in cents and splits by status, lost included in the totals', () => {
    const row = (weight: string | number, cost: string | number, status: ColisStatus) =>
      ({ weight, shipping_cost: cost, status }) as unknown as ColisRow;
    const t = totalsOf([row('2.50', '8.75', 'delivered'), row(0.1, 5.15, 'delivered'), row('4.00', '11.00', 'lost')]);
    expect(t.colis).toBe(3);
    expect(t.weight).toBe('6.60');
    expect(t.shipping_cost).toBe('24.90');
    expect(t.by_status.delivered).toEqual({ colis: 2, weight: '2.60', shipping_cost: '13.90' });
    expect(t.by_status.lost).toEqual({ colis: 1, weight: '4.00', shipping_cost: '11.00' });
    expect(t.by_status.pending).toEqual({ colis: 0, weight: '0.00', shipping_cost: '0.00' });
  });
});
