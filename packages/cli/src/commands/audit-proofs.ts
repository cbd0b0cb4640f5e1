import { writeFileSync } from 'node:fs';
import type { AuditProofCheck } from '@ape/audit';
import { type Command, InvalidArgumentError } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { readInputFile } from '../json-input.js';
import { oneLine } from '../text.js';
import { readOrFail } from './audit-read.js';

/** @internal The default key name of `ape audit keygen`. */
export const DEFAULT_KEY_NAME = 'ape-audit-log';

interface KeygenOptions extends CommonOptions {
  readonly name: string;
  readonly out: string;
}

interface CheckpointOptions extends CommonOptions {
  readonly key: string;
  readonly out?: string;
  readonly origin?: string;
  readonly allowTornTail?: boolean;
}

interface ProveOptions extends CommonOptions {
  readonly seq: number;
  readonly checkpoint?: string;
  readonly out?: string;
}

interface KeyOption extends CommonOptions {
  readonly key?: string;
}

interface ConsistencyOptions extends KeyOption {
  readonly proof?: string;
  readonly log?: string;
}

/** @internal Parses `--seq`: a non-negative integer. */
export function parseSeq(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer.');
  return Number(value);
}

/** Writes a new file; refuses to replace one (keys and proofs are never silently overwritten). */
function writeNewFile(path: string, given: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { encoding: 'utf8', mode, flag: 'wx' });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'EEXIST'
        ? 'it already exists; remove it or choose another name'
        : String((error as Error).message);
    throw new CommandFailure(`cannot write ${given}: ${why}`);
  }
}

function writeFile(path: string, given: string, text: string): void {
  try {
    writeFileSync(path, text, 'utf8');
  } catch (error) {
    throw new CommandFailure(`cannot write ${given}: ${String((error as Error).message)}`);
  }
}

/**
 * @internal `ape audit keygen|checkpoint|prove|verify-proof|consistency|repair`: signed checkpoints,
 * inclusion and consistency proofs, and torn-tail repair (docs/cli.md, docs/audit.md).
 */
export function registerAuditProofCommands(audit: Command, context: CommandContext): void {
  withCommonOptions(
    audit
      .command('keygen')
      .description(
        'write an Ed25519 key pair for signing checkpoints: PREFIX.key (private, 0600) and PREFIX.pub',
      )
      .requiredOption('--out <prefix>', 'where to write: <prefix>.key and <prefix>.pub')
      .option('--name <name>', 'the key name (by convention the log origin)', DEFAULT_KEY_NAME),
  ).action(async (options: KeygenOptions) => {
    const { generateNoteKeyPair } = await import('@ape/audit');
    const pair = generateNoteKeyPair(options.name);
    const privateFile = `${options.out}.key`;
    const publicFile = `${options.out}.pub`;
    writeNewFile(context.resolvePath(privateFile), privateFile, `${pair.signerKey}\n`, 0o600);
    writeNewFile(context.resolvePath(publicFile), publicFile, `${pair.verifierKey}\n`, 0o644);
    if (options.json === true) {
      context.printJson({
        name: pair.name,
        privateKeyFile: privateFile,
        publicKeyFile: publicFile,
        verifierKey: pair.verifierKey,
      });
      return;
    }
    context.print(
      `wrote ${privateFile} (private signer key, mode 0600: keep it away from the log's readers)`,
      `wrote ${publicFile} (public verifier key): ${pair.verifierKey}`,
    );
  });

  withCommonOptions(
    audit
      .command('checkpoint')
      .description('verify a log, then sign a checkpoint of it (origin, size, Merkle root)')
      .argument('<log>', 'the audit log file')
      .requiredOption('--key <file>', 'the private signer key file (from ape audit keygen)')
      .option('--out <file>', 'write the checkpoint here instead of printing it')
      .option('--origin <origin>', "the checkpoint's origin line (default: the key name)")
      .option('--allow-torn-tail', 'checkpoint the intact records of a log with a torn last line'),
  ).action(async (file: string, options: CheckpointOptions) => {
    const { checkpointAuditLog } = await import('@ape/audit');
    const signer = readInputFile(context.resolvePath(options.key), options.key);
    const { note, checkpoint } = await readOrFail(() =>
      checkpointAuditLog(context.resolvePath(file), signer, {
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(options.allowTornTail === true ? { allowTornTail: true } : {}),
      }),
    );
    if (options.out !== undefined) writeFile(context.resolvePath(options.out), options.out, note);
    if (options.json === true) {
      context.printJson({
        file,
        ...checkpoint,
        note,
        ...(options.out === undefined ? {} : { out: options.out }),
      });
      return;
    }
    if (options.out === undefined) {
      context.io.stdout.write(note);
      return;
    }
    context.print(`wrote ${options.out}: ${checkpoint.size} records of ${file}, root ${checkpoint.rootHash}`);
  });

  withCommonOptions(
    audit
      .command('prove')
      .description('print an inclusion proof of one record, checkable without the log (verify-proof)')
      .argument('<log>', 'the audit log file')
      .requiredOption('--seq <n>', 'the seq of the record', parseSeq)
      .option('--checkpoint <file>', 'prove against this signed checkpoint (its tree size)')
      .option('--out <file>', 'write the proof (JSON) here'),
  ).action(async (file: string, options: ProveOptions) => {
    const { proveAuditRecord } = await import('@ape/audit');
    const checkpoint =
      options.checkpoint === undefined
        ? undefined
        : readInputFile(context.resolvePath(options.checkpoint), options.checkpoint);
    const proof = await readOrFail(() =>
      proveAuditRecord(
        context.resolvePath(file),
        options.seq,
        checkpoint === undefined ? {} : { checkpoint },
      ),
    );
    const text = `${JSON.stringify(proof, null, 2)}\n`;
    if (options.out !== undefined) writeFile(context.resolvePath(options.out), options.out, text);
    if (options.json === true) {
      context.printJson(proof);
      return;
    }
    context.print(
      `record ${proof.seq} of ${file} is in the tree of ${proof.treeSize} records with root ${proof.rootHash}`,
      `inclusion proof: ${proof.path.length} hash${proof.path.length === 1 ? '' : 'es'}${checkpoint === undefined ? ' (no checkpoint: give --checkpoint to tie it to a signature)' : `, for checkpoint ${oneLine(options.checkpoint ?? '')}`}`,
      options.out === undefined
        ? 'save it with --out <file> (or --json) and check it with ape audit verify-proof'
        : `wrote ${options.out}`,
    );
  });

  withCommonOptions(
    audit
      .command('verify-proof')
      .description('check an inclusion proof without the log (against its signed checkpoint with --key)')
      .argument('<proof>', 'the proof file (from ape audit prove --out or --json)')
      .option('--key <file>', 'the verifier (public) key file the checkpoint must be signed with'),
  ).action(async (file: string, options: KeyOption) => {
    const { parseAuditInclusionProof, verifyAuditInclusionProof } = await import('@ape/audit');
    const text = readInputFile(context.resolvePath(file), file);
    const key =
      options.key === undefined ? undefined : readInputFile(context.resolvePath(options.key), options.key);
    const proof = await readOrFail(async () => parseAuditInclusionProof(text, file));
    const check = verifyAuditInclusionProof(proof, key === undefined ? {} : { key });
    report(
      context,
      options,
      { file, seq: proof.seq, treeSize: proof.treeSize, ...check },
      check,
      'PROOF OK',
      'BAD PROOF',
    );
  });

  withCommonOptions(
    audit
      .command('consistency')
      .description('prove a later checkpoint extends an earlier one: the log was only appended to')
      .argument('<checkpoint1>', 'the earlier signed checkpoint')
      .argument('<checkpoint2>', 'the later signed checkpoint')
      .option('--key <file>', 'the verifier (public) key file both checkpoints must be signed with')
      .option('--proof <file>', 'a consistency proof (the --json output of this command with --log)')
      .option('--log <file>', 'build the proof from this log'),
  ).action(async (first: string, second: string, options: ConsistencyOptions) => {
    const audit = await import('@ape/audit');
    if ((options.proof === undefined) === (options.log === undefined)) {
      throw new CommandFailure(
        'give exactly one of --proof <file> and --log <file>: the proof, or the log to build it from.',
      );
    }
    const note1 = readInputFile(context.resolvePath(first), first);
    const note2 = readInputFile(context.resolvePath(second), second);
    const key =
      options.key === undefined ? undefined : readInputFile(context.resolvePath(options.key), options.key);
    const proof = await readOrFail(async () => {
      if (options.proof !== undefined) {
        return audit.parseAuditConsistencyProof(
          readInputFile(context.resolvePath(options.proof), options.proof),
          options.proof,
        );
      }
      const size1 = audit.readUnverifiedCheckpoint(note1, first).size;
      const size2 = audit.readUnverifiedCheckpoint(note2, second).size;
      return audit.proveAuditConsistency(context.resolvePath(options.log as string), size1, size2);
    });
    const check = audit.verifyAuditConsistency(note1, note2, proof, {
      ...(key === undefined ? {} : { key }),
      sources: [first, second],
    });
    const built = options.log === undefined ? {} : { proof };
    report(
      context,
      options,
      { checkpoint1: first, checkpoint2: second, size1: proof.size1, size2: proof.size2, ...check, ...built },
      check,
      'CONSISTENT',
      'INCONSISTENT',
    );
  });

  withCommonOptions(
    audit
      .command('repair')
      .description('cut a torn last line (left by a crash) after showing it; refuses any other problem')
      .argument('<log>', 'the audit log file'),
  ).action(async (file: string, options: CommonOptions) => {
    const { cutTornTail, findTornTail } = await import('@ape/audit');
    const path = context.resolvePath(file);
    const tail = await readOrFail(() => findTornTail(path));
    if (tail === undefined) {
      if (options.json === true) context.printJson({ file, repaired: false, removedBytes: 0 });
      else context.print(`intact ${file}: nothing to repair`);
      return;
    }
    const removedBytes = tail.fileBytes - tail.intactBytes;
    if (options.json !== true) {
      context.print(
        `removing the torn last line of ${file} (line ${tail.line}, ${removedBytes} bytes after ${tail.records} intact records):`,
        `  ${oneLine(tail.preview)}${removedBytes > Buffer.byteLength(tail.preview) ? ' …' : ''}`,
      );
    }
    await readOrFail(() => cutTornTail(tail));
    if (options.json === true) {
      context.printJson({
        file,
        repaired: true,
        records: tail.records,
        intactBytes: tail.intactBytes,
        removedBytes,
        removed: tail.preview,
      });
      return;
    }
    context.print(`repaired ${file}: cut to ${tail.intactBytes} bytes, ${tail.records} records`);
  });
}

function report(
  context: CommandContext,
  options: CommonOptions,
  json: Record<string, unknown>,
  check: AuditProofCheck,
  good: string,
  bad: string,
): void {
  if (!check.ok) context.fail(EXIT_CODES.FINDING);
  if (options.json === true) {
    context.printJson(json);
    return;
  }
  const style = context.style(options);
  context.print(
    `${check.ok ? style.green(good) : style.red(bad)}${check.problem === undefined ? '' : ` (${check.problem})`}: ${oneLine(check.message)}`,
  );
  if (check.ok && !check.signatureChecked) {
    context.print(
      `${style.yellow('note:')} no --key: no signature was checked, so nothing vouches for these roots.`,
    );
  }
}
