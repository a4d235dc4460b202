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

/**
 * The profile of an actor named on the command line, by its ACCOUNT: the account id (the number
 * `accounts list` shows) or the account email (issue 16: one id per thing). A number that is no
 * account, or an account without that profile, says so (exit 3).
 */
async function findProfile<R extends { compte_id: number }>(db: Db, ref: string | number, table: string, what: string): Promise<R & { compte: CompteRow }> {
  const s = String(ref).trim();
  const compte = await findCompte(db, looksLikeEmail(s) ? s : String(parseId(s, `${what} (account id or email)`)));
  const row = (await db(table).where('compte_id', compte.id).first()) as R | undefined;
  if (!row) throw new NotFound(`account ${compte.id} (${compte.email}) is not a ${what}`, { code: `${what}_not_found` });
  return { ...row, compte };
}

/** A transporteur by its account id or email. */
export function findTransporteur(db: Db, ref: string | number): Promise<TransporteurRow & { compte: CompteRow }> {
  return findProfile<TransporteurRow>(db, ref, 'transporteurs', 'transporteur');
}

/** A utilisateur (a sender, a passenger with an account) by its account id or email. */
export function findUtilisateur(db: Db, ref: string | number): Promise<UtilisateurRow & { compte: CompteRow }> {
  return findProfile<UtilisateurRow>(db, ref, 'utilisateurs', 'utilisateur');
}
