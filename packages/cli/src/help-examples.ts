import type { Command } from 'commander';

/**
 * @internal One example or more per command, shown at the end of `ape <command> --help` and kept in
 * step with docs/cli.md. Keys are command paths (`audit verify`).
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  validate: ['ape validate policies/read_only.yaml', 'ape validate policies/*.yaml --json'],
  simulate: [
    'ape simulate ape-policy.yaml read_file --args \'{"path":"/workspace/notes.md"}\'',
    'ape simulate ape-policy.yaml send_email --provenance EXTERNAL_UNTRUSTED',
    'ape simulate ape-policy.yaml --batch requests.jsonl --json',
  ],
  explain: ['ape explain policies/human_in_loop.yaml'],
  test: [
    'ape test                                every *.test.yaml under the current directory',
    'ape test policies/                      every test file under policies/',
    'ape test policies/read_only.test.yaml   one file',
    'ape test policies/ --junit report.xml   also a JUnit report for CI',
  ],
  'audit verify': [
    'ape audit verify audit.jsonl',
    'ape audit verify audit.jsonl --checkpoint cp.txt --key audit.pub',
  ],
  'audit show': ['ape audit show audit.jsonl --type decision.made --tenant acme'],
  'audit tail': ['ape audit tail audit.jsonl -n 5'],
  'audit keygen': ['ape audit keygen --out audit --name acme.example/audit'],
  'audit checkpoint': ['ape audit checkpoint audit.jsonl --key audit.key --out cp.txt'],
  'audit prove': ['ape audit prove audit.jsonl --seq 3 --checkpoint cp.txt --out proof.json'],
  'audit verify-proof': ['ape audit verify-proof proof.json --key audit.pub'],
  'audit consistency': ['ape audit consistency cp-old.txt cp-new.txt --log audit.jsonl --key audit.pub'],
  'audit repair': ['ape audit repair audit.jsonl'],
  init: ['ape init', 'ape init --dir config/ape'],
  demo: ['ape demo', 'ape demo --interactive --audit demo-audit.jsonl'],
  attack: ['ape attack', 'ape attack --policy policies/read_only.yaml --json'],
  'mcp proxy': [
    'ape mcp proxy --policy ape-policy.yaml --audit audit.jsonl -- npx -y @modelcontextprotocol/server-filesystem /workspace',
  ],
  'mcp scan': ['ape mcp scan --output draft-policy.yaml -- node my-mcp-server.js'],
  verify: ['ape verify policies/untrusted_web.yaml', 'ape verify ape-policy.yaml --export tla --out models/'],
  'verify-policy': ['ape verify-policy policies/read_only.yaml'],
  diff: ['ape diff policies/read_only.yaml policies/workspace_files.yaml'],
  'approvals list': ['ape approvals list --redis redis://localhost:6379 --tenant acme'],
  approve: [
    'ape approve acme/4f1c… --redis redis://localhost:6379 --approver alice --reason "checked the recipient"',
  ],
  deny: ['ape deny acme/4f1c… --redis redis://localhost:6379 --approver alice'],
  console: ['ape console --audit audit.jsonl --redis redis://localhost:6379'],
  revoke: ['ape revoke --tenant acme --redis redis://localhost:6379 --reason "incident 42"'],
});

/** @internal Adds an `Examples:` block to the help of every command that has examples in {@link HELP_EXAMPLES}. */
export function addHelpExamples(program: Command): void {
  const pending: [Command, string][] = program.commands.map((command) => [command, command.name()]);
  while (pending.length > 0) {
    const [command, path] = pending.pop()!;
    for (const sub of command.commands) pending.push([sub, `${path} ${sub.name()}`]);
    const examples = HELP_EXAMPLES[path];
    if (examples === undefined) continue;
    command.addHelpText('after', `\nExamples:\n${examples.map((example) => `  ${example}`).join('\n')}\n`);
  }
}
