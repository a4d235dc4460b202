/**
 * Pools of French names and streets, drawn once from faker's French locale with a seed derived from
 * the demo's random seed. The hot loop then picks from these arrays with the fast row generator
 * (rng.ts): faker is called a few thousand times per seed, never per row.
 *
 * Reproducibility therefore holds for a given faker version (the lock file pins it). faker's
 * French instance is a module singleton: it is reseeded here, and only here, for each build.
 */
// The French entry point loads only the fr (and en fallback) definitions, not all 60 locales.
import { faker } from '@faker-js/faker/locale/fr';
import { COMMON_FIRST_NAMES_F, COMMON_FIRST_NAMES_M } from './words.js';

export interface NamePools {
  firstF: readonly string[];
  firstM: readonly string[];
  last: readonly string[];
  /** ASCII slugs of the names above, index for index (emails are built from them). */
  firstFSlug: readonly string[];
  firstMSlug: readonly string[];
  lastSlug: readonly string[];
  streets: readonly string[];
  /** Faker's French company names ("Maillard et Benoit", "Fernandez SARL"). */
  companies: readonly string[];
  legalForms: readonly string[];
}

const POOL = { first: 600, last: 1200, streets: 400, companies: 600 } as const;

export function buildPools(seed: number): NamePools {
  faker.seed(seed);
  const firstF: string[] = [];
  const firstM: string[] = [];
  for (let i = 0; i < POOL.first; i++) {
    // Four in five from the common names, the rest from faker's long tail.
    firstF.push(faker.datatype.boolean(0.8) ? faker.helpers.arrayElement(COMMON_FIRST_NAMES_F) : faker.person.firstName('female'));
    firstM.push(faker.datatype.boolean(0.8) ? faker.helpers.arrayElement(COMMON_FIRST_NAMES_M) : faker.person.firstName('male'));
  }
  const last: string[] = [];
  for (let i = 0; i < POOL.last; i++) last.push(tidySurname(faker.person.lastName()));
  const streets: string[] = [];
  for (let i = 0; i < POOL.streets; i++) streets.push(faker.location.street());
  const companies: string[] = [];
  for (let i = 0; i < POOL.companies; i++) companies.push(faker.company.name());
  const legalForms = ['SARL', 'SAS', 'SASU', 'EURL', 'SA'];
  return {
    firstF,
    firstM,
    last,
    firstFSlug: firstF.map(slug),
    firstMSlug: firstM.map(slug),
    lastSlug: last.map(slug),
    streets,
    companies,
    legalForms,
  };
}

/** ASCII slug for email local parts: "Élodie D'Arc" → "elodie-darc". */
export function slug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Faker's list has a few lower-cased particles ("Da silva", "Le gall"): capitalise each word. */
function tidySurname(s: string): string {
  return s.replace(/(^|[\s-])(\p{Ll})/gu, (_, sep: string, c: string) => sep + c.toUpperCase());
}
