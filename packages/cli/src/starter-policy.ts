/** @internal Where editors fetch the policy JSON Schema from (the file ships in `@ape/policy`). */
export const POLICY_SCHEMA_URL = 'https://unpkg.com/@ape/policy/schema/policy-v1.json';

/** The file name `ape init` writes: `ape-policy.yaml`. */
export const STARTER_POLICY_FILE = 'ape-policy.yaml';

/**
 * The starter policy `ape init` writes, as YAML text: valid as is, commented for a first-time reader,
 * default-deny, with the `# yaml-language-server: $schema=...` line editors use for completion.
 */
export const STARTER_POLICY: string = `# yaml-language-server: $schema=${POLICY_SCHEMA_URL}
#
# An APE policy: which tool calls your agent may make. Anything not allowed below is denied.
# Precedence does not depend on order: deny > escalate > allow > default deny.
#
#   ape validate ape-policy.yaml                 check it (schema + lint)
#   ape explain ape-policy.yaml                  see what it allows, denies and escalates
#   ape simulate ape-policy.yaml read_file --args '{"path":"/workspace/notes.md"}'
#
# Action ids are exact names ("read_file") or globs: "*" stops at ".", "**" does not ("http.*").
version: 1
name: my-agent

# Allowed with no condition.
allowed_actions:
  - list_dir

# Always denied, whatever the arguments or who asks.
forbidden_actions:
  - delete_file

# Each call needs a human approval.
escalation_required:
  - deploy_production

# Rules with conditions: "args" is a JSON Schema over the call's arguments, "provenance" the labels
# the call's inputs may carry (SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED).
rules:
  - id: read-inside-workspace
    actions: [read_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          # x-ape-path normalises the path first, so "/workspace/../etc/passwd" is outside.
          path: { type: string, x-ape-path: { roots: [/workspace] } }
    reason: Reading inside the workspace is fine.

  - id: write-inside-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [/workspace] } }
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
    reason: Writing inside the workspace is fine when the content comes from you, not from the web.

  - id: email-from-trusted-input
    actions: [send_email]
    effect: allow
    when:
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
    reason: E-mail built only from trusted input may go out.

  # The prompt-injection defence: an e-mail carrying data from a web page or a file needs a human.
  - id: untrusted-email-needs-a-human
    actions: [send_email]
    effect: escalate
    when:
      provenance: [EXTERNAL_UNTRUSTED]
    reason: This e-mail contains untrusted data; a human must approve it.

# Per-session call budgets.
limits:
  - id: email-budget
    actions: [send_email]
    max_calls: 5
    reason: At most five e-mails per session.
`;
