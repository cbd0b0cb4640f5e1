import type { CliIo } from './io.js';

/** @internal Text decorations; every function is the identity when colour is off. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

function wrap(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

const COLOURED: Style = Object.freeze({
  enabled: true,
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
});

const PLAIN: Style = Object.freeze({
  enabled: false,
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
});

/**
 * @internal Colour is used only when stdout is a terminal, `--no-color` was not given, `NO_COLOR` is
 * unset or empty (https://no-color.org) and `TERM` is not `dumb`.
 */
export function shouldUseColor(io: CliIo, colorFlag: boolean): boolean {
  if (!colorFlag || io.stdout.isTTY !== true) return false;
  const noColor = io.env?.['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  return io.env?.['TERM'] !== 'dumb';
}

/** @internal The style for a command's output. */
export function createStyle(enabled: boolean): Style {
  return enabled ? COLOURED : PLAIN;
}
