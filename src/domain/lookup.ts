/**
 * Finding the records people name on the command line. Accounts are addressed by id or email;
 * a mistyped email gets a "did you mean" when a near match exists.
 */
import type { Knex } from 'knex';
import type { CompteRow, TransporteurRow, UtilisateurRow } from '../db/rows.js';
import { editDistance } from '../db/text.js';
import { NotFound } from './errors.js';
import { looksLikeEmail, parseId } from './validate.js';

type Db = Knex | Knex.Transaction;

/**
 * Nearest existing email, for the NotFound hint. Only prefix scans (the unique email index serves
 * them, also with a million accounts): same first letters (typo in the name part) or same name
 * part with another domain (typo in the domain).
 */
async function nearEmail(db: Db, email: string): Promise<string | undefined> {
  const [local] = email.split('@');
  if (!local) return undefined;
  // ESCAPE '!' behaves the same on MySQL and SQLite (SQLite has no default LIKE escape).
  const esc = (s: string) => s.replace(/[%_!]/g, '!$&');
  const like = (pattern: string, limit: number) =>
    db('comptes').whereRaw("email like ? escape '!'", [pattern]).limit(limit).pluck('email') as Promise<string[]>;
  const byPrefix = await like(`${esc(local.slice(0, 3))}%`, 200);
  const byLocal = await like(`${esc(local)}@%`, 50);
  let best: string | undefined;
  let bestD = 4;
  for (const c of [...byLocal, ...byPrefix]) {
    const d = editDistance(email, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}


/** A compte by id or email (trimmed, lower-cased). Throws NotFound (exit 3). */
export async function findCompte(db: Db, ref: string | number, options: { forUpdate?: boolean } = {}): Promise<CompteRow> {
  const s = String(ref).trim();
  const qb = db<CompteRow>('comptes');
  if (looksLikeEmail(s)) qb.where('email', s.toLowerCase());
  else qb.where('id', parseId(s, 'account'));
  if (options.forUpdate) qb.forUpdate();
  const row = (await qb.first()) as CompteRow | undefined;
  if (row) return row;
  if (looksLikeEmail(s)) {
    const near = await nearEmail(db, s.toLowerCase());
    throw new NotFound(`no account with email ${s.toLowerCase()}${near ? ` (did you mean ${near}?)` : ''}`, {
      code: 'account_not_found',
    });
  }
  throw new NotFound(`no account with id ${s}`, { code: 'account_not_found' });
}

/** A transporteur profile by transporteur id or by its account's email. */
export async function findTransporteur(db: Db, ref: string | number): Promise<TransporteurRow & { compte: CompteRow }> {
  const s = String(ref).trim();
  let row: TransporteurRow | undefined;
  let compte: CompteRow;
  if (looksLikeEmail(s)) {
    compte = await findCompte(db, s);
    row = (await db<TransporteurRow>('transporteurs').where('compte_id', compte.id).first()) as TransporteurRow | undefined;
    if (!row) throw new NotFound(`account ${compte.email} is not a transporteur`, { code: 'transporteur_not_found' });
  } else {
    row = (await db<TransporteurRow>('transporteurs').where('id', parseId(s, 'transporteur')).first()) as TransporteurRow | undefined;
    if (!row) throw new NotFound(`no transporteur with id ${s}`, { code: 'transporteur_not_found' });
    compte = (await db<CompteRow>('comptes').where('id', row.compte_id).first()) as CompteRow;
  }
  return { ...row, compte };
}

/** A utilisateur profile by utilisateur id or by its account's email. */
export async function findUtilisateur(db: Db, ref: string | number): Promise<UtilisateurRow & { compte: CompteRow }> {
  const s = String(ref).trim();
  let row: UtilisateurRow | undefined;
  let compte: CompteRow;
  if (looksLikeEmail(s)) {
    compte = await findCompte(db, s);
    row = (await db<UtilisateurRow>('utilisateurs').where('compte_id', compte.id).first()) as UtilisateurRow | undefined;
    if (!row) throw new NotFound(`account ${compte.email} is not a utilisateur`, { code: 'utilisateur_not_found' });
  } else {
    row = (await db<UtilisateurRow>('utilisateurs').where('id', parseId(s, 'utilisateur')).first()) as UtilisateurRow | undefined;
    if (!row) throw new NotFound(`no utilisateur with id ${s}`, { code: 'utilisateur_not_found' });
    compte = (await db<CompteRow>('comptes').where('id', row.compte_id).first()) as CompteRow;
  }
  return { ...row, compte };
}
