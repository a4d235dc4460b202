/** Case- and accent-folding used for city matching: "Orléans" and "ORLEANS" fold to "orleans". */
export function foldText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();
}
