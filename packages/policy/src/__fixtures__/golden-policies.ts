/** Named policies used by the golden table (plain objects, as `compilePolicy` takes them). */
export const GOLDEN_POLICIES: Readonly<Record<string, Record<string, unknown>>> = {
  seed: {
    allowed_actions: ['read_file', 'list_directory', 'search_web'],
    forbidden_actions: ['delete_file', 'execute_shell'],
    escalation_required: ['send_email', 'deploy_production'],
  },
  globs: {
    version: 1,
    name: 'globs',
    allowed_actions: ['fs.*', '*_file', 'net.**'],
    forbidden_actions: ['fs.secret*', 'net.admin.**'],
    escalation_required: ['mail.*'],
  },
  precedence: {
    version: 1,
    name: 'precedence',
    rules: [
      { id: 'allow-a', actions: ['a', 'ad', 'ae', 'ade'], effect: 'allow' },
      { id: 'deny-d', actions: ['d', 'ad', 'de', 'ade'], effect: 'deny', reason: 'D is dangerous' },
      { id: 'escalate-e', actions: ['e', 'ae', 'de', 'ade'], effect: 'escalate' },
      { id: 'allow-a-2', actions: ['ad'], effect: 'allow' },
      { id: 'cond-allow', actions: ['c', 'cd'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } },
      { id: 'cond-deny', actions: ['c', 'cd'], effect: 'deny', when: { provenance: ['EXTERNAL_UNTRUSTED'] } },
      { id: 'cond-escalate', actions: ['c'], effect: 'escalate', when: { provenance: ['SYSTEM_TRUSTED'] } },
      {
        id: 'deny-cd',
        actions: ['cd'],
        effect: 'deny',
        when: { args: { type: 'object', required: ['force'], properties: { force: true } } },
      },
    ],
  },
  conditions: {
    version: 1,
    name: 'conditions',
    rules: [
      {
        id: 'write-workspace',
        actions: ['write_file'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['path'],
            properties: { path: { type: 'string', 'x-ape-path': { roots: ['/workspace'] } } },
          },
          provenance: ['SYSTEM_TRUSTED', 'USER_TRUSTED'],
        },
      },
      {
        id: 'untrusted-write',
        actions: ['write_file'],
        effect: 'escalate',
        when: { provenance: ['EXTERNAL_UNTRUSTED'] },
        reason: 'Untrusted content needs review',
      },
      {
        id: 'relative-read',
        actions: ['read_file'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['path'],
            properties: {
              path: {
                type: 'string',
                'x-ape-path': {
                  roots: ['/workspace'],
                  relativeTo: '/workspace',
                  exclude: ['/workspace/.git'],
                },
              },
            },
          },
        },
      },
      {
        id: 'fetch-allowlist',
        actions: ['fetch_url'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['url'],
            properties: {
              url: {
                type: 'string',
                'x-ape-url': { schemes: ['https'], hosts: ['example.com', '*.example.org'] },
              },
            },
          },
        },
      },
      {
        id: 'small-messages',
        actions: ['send_message'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['to', 'body'],
            additionalProperties: false,
            properties: {
              to: { type: 'string', enum: ['alice', 'bob'] },
              body: { type: 'string', maxLength: 20 },
            },
          },
        },
      },
      {
        id: 'no-prod-branch',
        actions: ['git_push'],
        effect: 'deny',
        when: { args: { type: 'object', properties: { branch: { const: 'main' } }, required: ['branch'] } },
        reason: 'Pushing to main is not allowed',
      },
      { id: 'push-any', actions: ['git_push'], effect: 'allow' },
      {
        id: 'ticket-pattern',
        actions: ['close_ticket'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string', pattern: '^T-[0-9]{1,6}$' } },
          },
        },
      },
    ],
  },
  session: {
    version: 1,
    name: 'session',
    allowed_actions: ['read_file', 'write_file', 'summarise', 'send_email', 'http.get', 'http.post'],
    tool_transitions: {
      read_file: ['summarise', 'read_file'],
      'http.*': ['summarise'],
      send_email: [],
    },
    limits: [
      { actions: ['http.*'], max_calls: 3 },
      { id: 'email-budget', actions: ['send_email'], max_calls: 1, reason: 'One e-mail per session' },
      { actions: ['write_file'], max_calls: 0 },
    ],
  },
  tenants: {
    version: 1,
    name: 'tenants',
    allowed_actions: ['read_file', 'write_file', 'fetch_url', 'send_email'],
    forbidden_actions: ['delete_file'],
    tenants: {
      bank: {
        forbidden_actions: ['send_email'],
        rules: [{ id: 'bank-review-writes', actions: ['write_file'], effect: 'escalate' }],
        limits: [{ id: 'bank-reads', actions: ['read_file'], max_calls: 2 }],
      },
      trial: {
        allowed_actions: ['read_file'],
        escalation_required: ['fetch_url'],
      },
      strict: {
        tool_transitions: { read_file: ['read_file'] },
        rules: [
          {
            id: 'strict-no-untrusted',
            actions: ['**'],
            effect: 'deny',
            when: { provenance: ['EXTERNAL_UNTRUSTED'] },
          },
        ],
      },
    },
  },
  budgets: {
    version: 1,
    name: 'budgets',
    allowed_actions: ['read_file', 'search_web', 'send_email', 'http.get'],
    limits: [
      { id: 'reads', actions: ['read_file'], max_calls: 2 },
      { id: 'reads-hourly', actions: ['read_file'], max_calls: 5, scope: 'lineage', window: '1h' },
      {
        id: 'searches-daily',
        actions: ['search_web', 'http.*'],
        max_calls: 100,
        scope: 'tenant',
        window: '1d',
      },
      { id: 'no-mail', actions: ['send_email'], max_calls: 0, window: '30s' },
    ],
    tenants: {
      trial: {
        limits: [{ id: 'trial-http', actions: ['http.*'], max_calls: 1, scope: 'tenant' }],
      },
    },
  },
  per_argument: {
    version: 1,
    name: 'per_argument',
    rules: [
      {
        id: 'mail-to-trusted-recipients',
        actions: ['send_email'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            properties: {
              to: { type: 'string', 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
              cc: { type: 'array', items: { 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] } },
            },
          },
        },
      },
      {
        id: 'untrusted-recipient',
        actions: ['send_email'],
        effect: 'escalate',
        when: {
          args: { type: 'object', properties: { to: { 'x-ape-provenance': ['EXTERNAL_UNTRUSTED'] } } },
        },
        reason: 'The recipient came from untrusted data',
      },
      {
        id: 'fetch-trusted-or-docs',
        actions: ['http.get'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            properties: {
              url: {
                anyOf: [
                  { 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
                  { type: 'string', 'x-ape-url': { schemes: ['https'], hosts: ['docs.example.com'] } },
                ],
              },
            },
          },
        },
      },
      { id: 'transfers', actions: ['transfer'], effect: 'allow' },
      {
        id: 'iban-from-the-user',
        actions: ['transfer'],
        effect: 'deny',
        when: {
          args: {
            not: {
              type: 'object',
              properties: { iban: { 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] } },
            },
          },
        },
        reason: 'The IBAN must come from the user',
      },
      {
        id: 'post-nested',
        actions: ['post'],
        effect: 'allow',
        when: {
          args: {
            type: 'object',
            properties: {
              message: {
                type: 'object',
                properties: { to: { 'x-ape-provenance': ['USER_TRUSTED'] } },
              },
            },
          },
        },
      },
      {
        id: 'note-all-trusted',
        actions: ['note'],
        effect: 'allow',
        when: { args: { type: 'object', 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] } },
      },
    ],
  },
};
