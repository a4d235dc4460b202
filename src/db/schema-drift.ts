/**
 * The schema the migrations produce (table and stored column names, the same on every engine:
 * MySQL's generated token_hash is the database's own), compared with a live one.
 */
export type SchemaShape = Map<string, string[]>;

export async function expectedSchema(): Promise<SchemaShape> {
  const { expectedModel } = await import('./adopt/expected.js');
  const shape: SchemaShape = new Map();
  for (const [name, t] of await expectedModel()) shape.set(name, t.columns.filter((c) => !c.generated).map((c) => c.name));
  return shape;
}

/** Missing/extra tables and columns, as human-readable findings (empty when identical). */
export function compareSchema(expected: SchemaShape, live: SchemaShape, ignore: (table: string) => boolean = () => false): string[] {
  const findings: string[] = [];
  for (const [table, cols] of expected) {
    const have = live.get(table);
    if (!have) {
      findings.push(`missing table ${table}`);
      continue;
    }
    const missing = cols.filter((c) => !have.includes(c));
    const extra = have.filter((c) => !cols.includes(c));
    if (missing.length) findings.push(`${table}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (extra.length) findings.push(`${table}: extra column${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
  }
  for (const table of live.keys()) {
    if (!expected.has(table) && !ignore(table)) findings.push(`extra table ${table}`);
  }
  return findings;
}
