/**
 * revoked_tokens.token_hash on PostgreSQL, computed by the database from the row the platform app
 * inserts (it writes the seed's columns only): SHA-256 hex of the token's UTF-8 bytes, as
 * billettigue's tokenHash() computes it. A generated column needs IMMUTABLE functions: convert_to()
 * is only STABLE, and `token::bytea` reads backslashes as escapes, so the bytes come from
 * decode(…, 'escape') with backslashes doubled, which gives the UTF-8 bytes of a UTF8 database's
 * text. Used by migration 20261125000800 and by `db adopt`.
 */
export const PG_TOKEN_HASH = `encode(sha256(decode(replace(token, E'\\\\', E'\\\\\\\\'), 'escape')), 'hex')`;
