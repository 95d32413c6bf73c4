/** sh(1p) quoting: a single-quoted word holds every byte literally except `'` itself. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
