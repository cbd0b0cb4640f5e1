import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { apeCommand } from '../invocation.js';
import type { CliOutput } from '../io.js';

interface DemoOptions extends CommonOptions {
  readonly interactive?: boolean;
  readonly audit?: string;
}

/**
 * @internal `ape demo`: runs the reference agent's scenarios in a fresh temporary workspace, with
 * no network and no API key. Exit 0 only when every scenario ended as expected.
 */
export function registerDemoCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('demo')
      .description('run the reference agent through allowed, denied, escalated and attacked scenarios')
      .option('--interactive', 'approve or deny escalations yourself at the terminal')
      .option('--audit <path>', 'where to write the audit log (default: a temporary file)'),
  ).action(async (options: DemoOptions) => {
    // Loaded on demand: the other commands do not pay for the agent's tools.
    const { runDemo } = await import('@ape/reference-agent');
    const json = options.json === true;
    const style = context.style(options);
    const transcript = json
      ? options.interactive === true
        ? context.io.stderr
        : undefined
      : context.io.stdout;
    const report = await runDemo({
      interactive: options.interactive === true,
      output: toWritable(transcript),
      color: style.enabled,
      ...(options.audit === undefined ? {} : { auditPath: context.resolvePath(options.audit) }),
    });
    if (!report.ok) context.fail(EXIT_CODES.FINDING);
    if (json) {
      context.printJson(report);
      return;
    }
    // The transcript already ends with the verdict and the audit log's path; point at the tools,
    // with a command that works where the demo ran.
    const ape = apeCommand(context);
    const shown = report.auditPath.includes(' ') ? JSON.stringify(report.auditPath) : report.auditPath;
    context.print(style.dim(`next: ${ape} audit verify ${shown}  ·  ${ape} audit show ${shown}`));
  });
}

/** Adapts the CLI's output to the Node `Writable` the demo writes its transcript to. */
function toWritable(output: CliOutput | undefined): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      output?.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      callback();
    },
  });
}
