import { escapeTerminalText } from '@ape/core/terminal-text';

const MAX_MESSAGE_LENGTH = 400;

/**
 * @internal Makes a message fit on one line: whitespace runs (newlines included) become one space,
 * then core's terminal-text sanitiser escapes every other character that could move the cursor,
 * reorder or hide text (`\x1b`, `\u202e`, ...), so a hostile file name or value cannot rewrite the
 * user's terminal, and cuts a very long message with `… (N more characters)`.
 */
export function oneLine(message: string): string {
  return escapeTerminalText(message.replace(/\s+/g, ' ').trim(), { maxLength: MAX_MESSAGE_LENGTH });
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
