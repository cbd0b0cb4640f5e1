const MAX_MESSAGE_LENGTH = 400;

/**
 * @internal Makes a message fit on one line: whitespace runs (newlines included) become one space,
 * and a very long message is cut with an ellipsis. Terminal control characters are dropped so a
 * hostile file name or value cannot rewrite the user's terminal.
 */
export function oneLine(message: string): string {
  const flat = stripControl(message).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : flat;
}

/** @internal Drops C0/C1 control characters except tab and newline. */
export function stripControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** @internal Pads each column to its widest cell; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[], gap = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join(gap)
      .trimEnd(),
  );
}
