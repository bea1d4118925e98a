/** A plain text table: columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `SERVICE_PHASE_RUNNING` → `running`. */
export function shortEnum(value: string | undefined, prefix: string): string {
  if (value === undefined) return '-';
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value;
}
