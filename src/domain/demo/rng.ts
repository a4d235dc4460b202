/**
 * Deterministic randomness for the demo generator.
 *
 * Every generated row draws from its own little stream, keyed by (random seed, stream, row index):
 * `rng.at(STREAM, i)`. A row is therefore a pure function of the seed and its index, which gives
 * three things at once: the same seed always gives the same database; a row can be re-derived
 * anywhere (a reservation recomputes its passenger's name from the account index instead of
 * keeping a million names in memory); and tables can be generated in any order, in chunks.
 *
 * The generator is a Weyl sequence passed through a 32-bit finaliser (splitmix/murmur3 style):
 * one addition and a few multiplications per draw, good enough statistics for test data, and far
 * faster than calling faker per field in the hot loop (faker only fills the pools, see pools.ts).
 */
import { createHash } from 'node:crypto';

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Four 32-bit words from any seed text (SHA-256), so "42" and "demo-1" are both fine seeds. */
export function seedWords(seed: string): [number, number, number, number] {
  const h = createHash('sha256').update(`billettigue-demo:${seed}`, 'utf8').digest();
  return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)];
}

const GOLDEN = 0x9e3779b9;
const TWO32 = 4294967296;

export class Rng {
  private s = 0;
  private readonly k0: number;
  private readonly k1: number;

  constructor(words: readonly [number, number, number, number]) {
    this.k0 = (words[0] ^ words[2]) >>> 0;
    this.k1 = (words[1] ^ words[3]) >>> 0;
  }

  /** Positions the stream on row `index` of stream `stream`; returns this for chaining. */
  at(stream: number, index: number): this {
    const lo = index >>> 0;
    const hi = Math.floor(index / TWO32) >>> 0;
    this.s = mix32((mix32((this.k0 + Math.imul(stream + 1, GOLDEN)) ^ lo) + this.k1) ^ mix32(hi + stream));
    return this;
  }

  /** Next unsigned 32-bit value. */
  next(): number {
    this.s = (this.s + GOLDEN) | 0;
    return mix32(this.s);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / TWO32;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Index into a cumulative weight table (ascending, last entry = total). */
  weighted(cumulative: readonly number[]): number {
    const total = cumulative[cumulative.length - 1]!;
    const x = this.float() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Lower-case hex of `n` random bytes. */
  hex(n: number): string {
    let out = '';
    while (out.length < n * 2) out += this.next().toString(16).padStart(8, '0');
    return out.slice(0, n * 2);
  }
}

/** Cumulative table from weights, for `Rng.weighted`. */
export function cumulative(weights: readonly number[]): number[] {
  const out: number[] = [];
  let acc = 0;
  for (const w of weights) out.push((acc += w));
  return out;
}
