import type { SourceLocation } from './definition.js';
import type { SourceMap } from './limits.js';
import type { PolicyFinding } from './types.js';

/**
 * @internal Collects the findings of one compilation (each finding once) and places them in the
 * source: the line and column of a JSON path, or of its nearest located ancestor.
 */
export class FindingSink {
  readonly findings: PolicyFinding[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly file: string | undefined,
    private readonly sourceMap: SourceMap | undefined,
  ) {}

  add(
    severity: 'error' | 'warning',
    code: string,
    path: string,
    message: string,
    rules?: readonly string[],
    atKey = false,
  ): void {
    const key = `${code}|${path}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const position = (atKey ? this.sourceMap?.locate(`${path}#key`) : undefined) ?? this.locate(path);
    this.findings.push({
      severity,
      code,
      message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
      path,
      ...(rules === undefined ? {} : { rules: Object.freeze([...rules]) }),
    });
  }

  /** The position of `path`, or of its nearest located ancestor. */
  locate(path: string): { line: number; column: number } | undefined {
    let current = path;
    while (this.sourceMap !== undefined) {
      const position = this.sourceMap.locate(current);
      if (position !== undefined) return position;
      const cut = Math.max(current.lastIndexOf('.'), current.lastIndexOf('['));
      if (cut <= 0) return undefined;
      current = current.slice(0, cut);
    }
    return undefined;
  }

  /**
   * Where `path` was written, for the policy model. Built field by field (the model holds one per
   * rule: 100,000 of them for a large policy), with the same keys in the same order as before.
   */
  source(path: string): SourceLocation {
    const position = this.locate(path);
    const { file } = this;
    if (position === undefined) return file === undefined ? { path } : { path, file };
    return file === undefined
      ? { path, line: position.line, column: position.column }
      : { path, file, line: position.line, column: position.column };
  }

  get hasErrors(): boolean {
    return this.findings.some((finding) => finding.severity === 'error');
  }
}
