import { ConfigurationError } from '@ape/core';

/**
 * The client messages the gateway forwards to the server by default (requests and notifications,
 * matched exactly and case-sensitively): the rest of MCP's client-to-server methods. Anything else
 * — a vendor method, `Tools/Call`, `tools/call ` with a trailing space, a `tools/call`
 * *notification* — is refused and audited. `tools/list` and `tools/call` are never forwarded as
 * such: the gateway answers them itself.
 */
export const DEFAULT_FORWARDED_METHODS: readonly string[] = Object.freeze([
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/roots/list_changed',
]);

/**
 * Methods the gateway (or the MCP SDK under it) answers itself: they cannot be put on the forward
 * list, and as notifications they are never forwarded.
 */
export const GATEWAY_METHODS: readonly string[] = Object.freeze([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
]);

const METHOD_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./:-]{0,127}$/;

/**
 * @internal The exact set of forwarded methods: `allowMethods` (default
 * {@link DEFAULT_FORWARDED_METHODS}) without `refuseMethods`.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a list that is not an array of method names, or
 * that names a method the gateway answers itself.
 */
export function forwardedMethods(
  allowMethods: readonly string[] | undefined,
  refuseMethods: readonly string[] | undefined,
): ReadonlySet<string> {
  const allowed = methodList('allowMethods', allowMethods ?? DEFAULT_FORWARDED_METHODS);
  for (const method of allowed) {
    if (GATEWAY_METHODS.includes(method)) {
      throw new ConfigurationError(
        `createMcpGateway: allowMethods: "${method}" is answered by the gateway itself and is never forwarded; remove it.`,
        { field: 'allowMethods', method },
      );
    }
  }
  for (const method of methodList('refuseMethods', refuseMethods ?? [])) allowed.delete(method);
  return allowed;
}

function methodList(field: string, list: unknown): Set<string> {
  if (!Array.isArray(list)) {
    throw new ConfigurationError(`createMcpGateway: \`${field}\` must be an array of method names.`, {
      field,
    });
  }
  const methods = new Set<string>();
  list.forEach((method: unknown, index) => {
    if (typeof method !== 'string' || !METHOD_NAME.test(method)) {
      throw new ConfigurationError(
        `createMcpGateway: ${field}[${index}] must be a method name such as "resources/read" (letters, digits, _ . / : -), got ${JSON.stringify(String(method)).slice(0, 80)}.`,
        { field: `${field}[${index}]` },
      );
    }
    methods.add(method);
  });
  return methods;
}
