/** Pure rules of accounts: the status machine (every pair), sorting, profiles by role. No database. */
import { describe, expect, it } from 'vitest';
import { buildProfile, canTransition, parseSort, STATUS_VERBS, TRANSITIONS } from '../src/domain/accounts.js';
import { profileKindOf } from '../src/domain/roles.js';
import { COMPTE_STATUSES } from '../src/db/schema.js';

describe('compte status transitions', () => {
  const allowed: Record<string, string[]> = {
    active: ['inactive', 'suspended', 'deleted'],
    inactive: ['active', 'suspended', 'deleted'],
    suspended: ['active', 'inactive', 'deleted'],
    deleted: [],
  };
  for (const from of COMPTE_STATUSES) {
    for (const to of COMPTE_STATUSES) {
      const ok = allowed[from]!.includes(to);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'refused'}`, () => {
        expect(canTransition(from, to)).toBe(ok);
      });
    }
  }
  it('covers every status, and every verb goes to a status', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...COMPTE_STATUSES].sort());
    for (const to of Object.values(STATUS_VERBS)) expect(COMPTE_STATUSES).toContain(to);
  });
});

describe('--sort', () => {
  it('accepts the allow-list with an optional direction', () => {
    expect(parseSort('email')).toEqual({ field: 'email', direction: 'asc' });
    expect(parseSort('last_login:desc')).toEqual({ field: 'last_login', direction: 'desc' });
    expect(parseSort('FAILED_LOGINS:ASC')).toEqual({ field: 'failed_logins', direction: 'asc' });
  });
  it.each(['password_hash', 'id; drop table comptes', 'email:sideways', 'email:desc:x', ''])('refuses %j with exit 2', (raw) => {
    expect(() => parseSort(raw)).toThrow(expect.objectContaining({ exitCode: 2, code: 'invalid_sort' }));
  });
});

describe('profiles by role (docs/rules.md)', () => {
  it('maps roles to profile tables', () => {
    expect(profileKindOf('admin')).toBe('administrateur');
    expect(profileKindOf('transporteur')).toBe('transporteur');
    expect(profileKindOf('user')).toBe('utilisateur');
    expect(profileKindOf('support')).toBe('utilisateur');
  });

  it('builds a user profile with a normalised phone', () => {
    expect(buildProfile('user', { firstName: ' Ana ', lastName: 'Roy', phone: '06 12 34 56 78' })).toEqual({
      kind: 'utilisateur',
      first_name: 'Ana',
      last_name: 'Roy',
      phone_number: '+33612345678',
    });
  });

  it('defaults the transporteur company type to mixte and validates it', () => {
    expect(buildProfile('transporteur', { phone: '+33611223344' })).toMatchObject({ company_type: 'mixte', company_name: null });
    expect(() => buildProfile('transporteur', { phone: '+33611223344', companyType: 'bateaux' })).toThrow(/company-type "bateaux" is not allowed/);
  });

  it('names the missing field for the role', () => {
    expect(() => buildProfile('user', { firstName: 'A', lastName: 'B' })).toThrow(/--phone is required for role user/);
    expect(() => buildProfile('admin', { firstName: 'A' })).toThrow(/--last-name is required for role admin/);
    expect(() => buildProfile('transporteur', {})).toThrow(/--phone is required for role transporteur/);
  });

  it('refuses flags that do not belong to the role instead of dropping them', () => {
    expect(() => buildProfile('admin', { firstName: 'A', lastName: 'B', phone: '0612345678' })).toThrow(/--phone does not apply to role admin/);
    expect(() => buildProfile('user', { firstName: 'A', lastName: 'B', phone: '0612345678', companyName: 'X' })).toThrow(/--company-name does not apply/);
  });

  it('carries fields over from an old profile, flags winning', () => {
    expect(buildProfile('admin', {}, { firstName: 'Old', lastName: 'Name', phone: '+33600000000' })).toEqual({
      kind: 'administrateur',
      first_name: 'Old',
      last_name: 'Name',
    });
    expect(buildProfile('transporteur', { phone: '0700000000' }, { phone: '+33600000000' })).toMatchObject({ phone_number: '+33700000000' });
  });

  it('refuses an invalid phone', () => {
    expect(() => buildProfile('user', { firstName: 'A', lastName: 'B', phone: '12' })).toThrow(expect.objectContaining({ exitCode: 2, code: 'invalid_phone' }));
  });
});
