/** @internal ANSI styling of the transcript that collapses to plain text when colour is off. */
export interface DemoStyle {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

/** @internal The transcript's style: ANSI escapes when `color`, the identity otherwise. */
export function createDemoStyle(color: boolean): DemoStyle {
  const wrap = (open: number, close: number) => (text: string) =>
    color ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
  };
}
