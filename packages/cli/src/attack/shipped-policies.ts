/**
 * @internal The example policies of the repository (`policies/*.yaml`), embedded so that `ape attack`
 * runs from an installed package without the repository. `shipped-policies.test.ts` keeps every
 * text identical to its file.
 */

/** @internal The name of an embedded policy: its file name without `.yaml`. */
export type ShippedPolicyName =
  | 'example_policy'
  | 'human_in_loop'
  | 'multi_tenant'
  | 'read_only'
  | 'untrusted_web'
  | 'workspace_files';

/** @internal Every embedded policy name, in file order. */
export const SHIPPED_POLICY_NAMES: readonly ShippedPolicyName[] = Object.freeze([
  'example_policy',
  'human_in_loop',
  'multi_tenant',
  'read_only',
  'untrusted_web',
  'workspace_files',
]);

/** @internal The text of each embedded policy, byte for byte the file in `policies/`. */
export const SHIPPED_POLICY_TEXTS: Readonly<Record<ShippedPolicyName, string>> = Object.freeze({
  example_policy: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# The seed's example policy: only the three lists. It loads unchanged in APE policy language v1
# (version defaults to 1, the name defaults to the file name, "example_policy").
# Anything not listed is denied by default.

# Safe, read-only tools the agent may call freely.
allowed_actions:
  - read_file
  - list_directory
  - search_web

# Destructive tools the agent may never call.
forbidden_actions:
  - delete_file
  - execute_shell

# Tools with side effects outside the sandbox: a human approves every call.
escalation_required:
  - send_email
  - deploy_production
`,
  human_in_loop: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# A human approves everything with effects beyond reading. Pair it with an escalation handler
# (deny-all by default: without a human, every escalation is a DENY).
version: 1
name: human-in-the-loop
description: Reads run freely; writes, deletes, e-mails, fetches from unknown hosts and deployments wait for a person.

actions:
  - read_file
  - list_directory
  - write_file
  - delete_file
  - fetch_url
  - send_email
  - deploy_production

allowed_actions:
  - read_file
  - list_directory

escalation_required:
  - write_file
  - delete_file
  - send_email
  - deploy_production

rules:
  - id: fetch-known-hosts
    actions: [fetch_url]
    effect: allow
    when:
      args:
        type: object
        required: [url]
        properties:
          url:
            type: string
            x-ape-url: { schemes: [https], hosts: [example.com, '*.example.com'] }

  - id: fetch-other-hosts-needs-approval
    actions: [fetch_url]
    effect: escalate
    when:
      args:
        type: object
        required: [url]
        properties:
          url:
            type: string
            not:
              x-ape-url: { schemes: [https], hosts: [example.com, '*.example.com'] }
    reason: The agent wants to contact a host outside the allowlist.

  - id: deploy-only-to-known-environments
    actions: [deploy_production]
    effect: deny
    when:
      args:
        type: object
        required: [environment]
        properties:
          environment:
            not: { enum: [production, staging] }
    reason: Only the production and staging environments exist.

tool_transitions:
  # Deleting right after reading a file is how an injected "clean up" instruction looks.
  read_file: [read_file, list_directory, write_file, fetch_url, send_email]
  # A deployment is the last step of a session.
  deploy_production: []

limits:
  - id: one-deploy-per-session
    actions: [deploy_production]
    max_calls: 1
    reason: One deployment per session; start a new session to deploy again.
  - id: email-budget
    actions: [send_email]
    max_calls: 5
`,
  multi_tenant: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# One base policy, narrowed per tenant. A tenant overlay can only narrow: it adds deny and
# escalate rules, limits and tool transitions, and its allowed_actions restricts the tenant to a
# subset of what the base allows. It can never allow more than the base.
version: 1
name: multi-tenant
description: A shared assistant with a stricter overlay for a regulated tenant and a trial tenant.

actions:
  - read_file
  - list_directory
  - write_file
  - delete_file
  - fetch_url
  - send_email
  - deploy_production

allowed_actions:
  - read_file
  - list_directory
  - fetch_url

forbidden_actions:
  - deploy_production

escalation_required:
  - send_email
  - delete_file

rules:
  - id: write-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [/workspace] } }

tenants:
  # A bank: no e-mail at all, every write reviewed, and a tight budget.
  acme-bank:
    description: Regulated tenant.
    forbidden_actions: [send_email]
    rules:
      - id: acme-bank-review-writes
        actions: [write_file]
        effect: escalate
        reason: Every change in a regulated workspace is reviewed.
    limits:
      - id: acme-bank-daily-reads
        actions: [read_file, list_directory]
        max_calls: 200

  # A trial account may only read.
  trial:
    description: Free trial, read-only.
    allowed_actions: [read_file, list_directory]
    rules:
      - id: trial-untrusted-fetch
        actions: [fetch_url]
        effect: deny
        when: { provenance: [EXTERNAL_UNTRUSTED] }
`,
  read_only: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# A read-only assistant: it may look at files and the web, never change anything.
version: 1
name: read-only
description: Reading files and fetching public pages only; every write, delete or send is denied.

# The tools this agent has. Declaring them turns typos in patterns into load errors.
actions:
  - read_file
  - list_directory
  - search_web
  - fetch_url
  - write_file
  - delete_file
  - send_email
  - deploy_production

allowed_actions:
  - read_file
  - list_directory
  - search_web

forbidden_actions:
  - write_file
  - delete_file
  - deploy_production

rules:
  # Fetching is fine, but only over HTTPS and never to private addresses spelled as hosts.
  - id: fetch-public-https
    actions: [fetch_url]
    effect: allow
    when:
      args:
        type: object
        required: [url]
        properties:
          url:
            type: string
            x-ape-url:
              schemes: [https]
              hosts: [docs.python.org, developer.mozilla.org, '*.wikipedia.org']
    reason: Reading public documentation is part of the job.

  # Sending anything out is a write to the world.
  - id: no-outbound-messages
    actions: [send_email]
    effect: deny
    reason: A read-only assistant does not send messages.

limits:
  # A runaway loop of fetches is cut off.
  - id: fetch-budget
    actions: [fetch_url, search_web]
    max_calls: 50
`,
  untrusted_web: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# Provenance rules against prompt injection. A call's provenance is the least trusted label of
# everything that flowed into its arguments: text from a web page makes the whole call
# EXTERNAL_UNTRUSTED. Untrusted data may be read and summarised, but it may not leave the machine,
# be written outside the workspace or destroy anything on its own say-so.
version: 1
name: untrusted-web
description: Browse the web freely; anything carrying web content that sends data out needs a human, destructive calls are denied.

actions:
  - read_file
  - list_directory
  - write_file
  - delete_file
  - fetch_url
  - search_web
  - send_email
  - http_post
  - deploy_production

allowed_actions:
  - read_file
  - list_directory
  - search_web

rules:
  - id: fetch-https
    actions: [fetch_url]
    effect: allow
    when:
      args:
        type: object
        required: [url]
        properties:
          url:
            type: string
            x-ape-url: { schemes: [https], hosts: ['*.wikipedia.org', docs.python.org, example.com, '*.example.com'] }

  # Trusted data may leave: e-mails and posts the user asked for.
  - id: send-trusted
    actions: [send_email, http_post]
    effect: allow
    when:
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]

  # Exfiltration guard: data that came from outside never leaves without a human reading it.
  - id: untrusted-data-must-not-leave
    actions: [send_email, http_post]
    effect: escalate
    when:
      provenance: [EXTERNAL_UNTRUSTED]
    reason: The message carries content from an untrusted source (possible prompt injection).

  - id: write-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [/workspace] } }

  # Writing outside the workspace is sending data out of the sandbox.
  - id: write-outside-workspace-trusted
    actions: [write_file]
    effect: escalate
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, not: { x-ape-path: { roots: [/workspace] } } }
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
    reason: Writing outside the workspace needs a human.

  - id: untrusted-write-outside-workspace
    actions: [write_file]
    effect: deny
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, not: { x-ape-path: { roots: [/workspace] } } }
      provenance: [EXTERNAL_UNTRUSTED]
    reason: Untrusted content may not be written outside the workspace.

  # Destructive actions never follow untrusted instructions.
  - id: no-destruction-on-untrusted-input
    actions: [delete_file, deploy_production]
    effect: deny
    when:
      provenance: [EXTERNAL_UNTRUSTED]
    reason: A destructive action was requested with untrusted input.

  - id: destructive-needs-approval
    actions: [delete_file, deploy_production]
    effect: escalate
    when:
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]

limits:
  - id: browsing-budget
    actions: [fetch_url, search_web]
    max_calls: 30
`,
  workspace_files: `# yaml-language-server: $schema=../packages/policy/schema/policy-v1.json
#
# File tools confined to /workspace. Paths are checked with the x-ape-path keyword, which
# normalises "..", "." and repeated or trailing slashes before comparing, and refuses NUL bytes,
# backslashes and percent-encoded separators: "/workspace/../etc/passwd" is outside /workspace.
# A regex on the raw string ("^/workspace/") would let that traversal through.
version: 1
name: workspace-files
description: Read, list and write files inside /workspace; deletions need a human; secrets stay out of reach.

actions:
  - read_file
  - write_file
  - list_directory
  - delete_file
  - fetch_url
  - send_email
  - deploy_production

rules:
  - id: read-inside-workspace
    actions: [read_file, list_directory]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path:
            type: string
            x-ape-path: { roots: [/workspace] }

  - id: write-inside-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path, content]
        properties:
          path:
            type: string
            x-ape-path: { roots: [/workspace], exclude: [/workspace/.git] }
          content: { type: string, maxLength: 1048576 }
      # Content that came from the web or another tool's output must not be written unreviewed.
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
    reason: Writing inside the workspace is the assistant's job.

  - id: untrusted-write-needs-review
    actions: [write_file]
    effect: escalate
    when:
      args:
        type: object
        required: [path]
        properties:
          path:
            type: string
            x-ape-path: { roots: [/workspace], exclude: [/workspace/.git] }
      provenance: [EXTERNAL_UNTRUSTED]
    reason: The content to write came from an untrusted source; a human checks it first.

  - id: delete-inside-workspace-needs-approval
    actions: [delete_file]
    effect: escalate
    when:
      args:
        type: object
        required: [path]
        properties:
          path:
            type: string
            x-ape-path: { roots: [/workspace] }
    reason: Deletions cannot be undone.

  # Defence in depth: whatever else says, nothing touches the secrets directory.
  - id: never-touch-secrets
    actions: ['*_file', list_directory]
    effect: deny
    when:
      args:
        type: object
        required: [path]
        properties:
          path:
            type: string
            x-ape-path: { roots: [/workspace/.secrets] }
    reason: The secrets directory is off limits.

forbidden_actions:
  - deploy_production

escalation_required:
  - send_email

limits:
  - id: write-budget
    actions: [write_file, delete_file]
    max_calls: 100
`,
});
