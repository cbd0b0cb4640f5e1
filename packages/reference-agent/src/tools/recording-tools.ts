import { type AgentTool, defineAgentTool } from './agent-tool.js';

/** An e-mail `send_email` recorded instead of sending. */
export interface SentEmail {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/** A deployment `deploy_production` recorded instead of performing. */
export interface Deployment {
  readonly service: string;
  readonly version: string;
  readonly environment: 'production' | 'staging';
  /** A fake deployment id, `deploy-1`, `deploy-2`, ... */
  readonly id: string;
}

/** Where the recording tools write what they would have done. Read it in tests and transcripts. */
export interface SideEffectLog {
  /** Every e-mail `send_email` "sent", oldest first. */
  readonly emails: readonly SentEmail[];
  /** Every deployment `deploy_production` "performed", oldest first. */
  readonly deployments: readonly Deployment[];
}

/** The recording tools and the log they write to. */
export interface RecordingTools {
  readonly sendEmail: AgentTool<{ readonly delivered: true; readonly to: string }>;
  readonly deployProduction: AgentTool<Deployment>;
  readonly log: SideEffectLog;
}

const ADDRESS_PATTERN = '^[^@\\s]+@[^@\\s]+$';

/**
 * Creates `send_email` (records the message instead of sending it) and `deploy_production` (records
 * a fake deployment). Both are the kind of action a policy should guard: one sends data out, the
 * other changes production.
 */
export function createRecordingTools(): RecordingTools {
  const emails: SentEmail[] = [];
  const deployments: Deployment[] = [];

  const sendEmail = defineAgentTool({
    id: 'send_email',
    description: 'Sends an e-mail (recorded, never delivered).',
    argsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['to', 'subject', 'body'],
      properties: {
        to: { type: 'string', maxLength: 320, pattern: ADDRESS_PATTERN },
        subject: { type: 'string', maxLength: 200 },
        body: { type: 'string', maxLength: 100_000 },
      },
    },
    run(args) {
      const email = Object.freeze({
        to: String(args['to']),
        subject: String(args['subject']),
        body: String(args['body']),
      });
      emails.push(email);
      return { delivered: true as const, to: email.to };
    },
  });

  const deployProduction = defineAgentTool<Deployment>({
    id: 'deploy_production',
    description: 'Deploys a version of a service to production or staging (recorded, nothing is deployed).',
    argsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['service', 'version', 'environment'],
      properties: {
        service: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
        version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
        environment: { type: 'string', enum: ['production', 'staging'] },
      },
    },
    run(args) {
      const deployment = Object.freeze({
        service: String(args['service']),
        version: String(args['version']),
        environment: args['environment'] === 'staging' ? ('staging' as const) : ('production' as const),
        id: `deploy-${deployments.length + 1}`,
      });
      deployments.push(deployment);
      return deployment;
    },
  });

  const log: SideEffectLog = Object.freeze({
    get emails(): readonly SentEmail[] {
      return emails;
    },
    get deployments(): readonly Deployment[] {
      return deployments;
    },
  });
  return Object.freeze({ sendEmail, deployProduction, log });
}
