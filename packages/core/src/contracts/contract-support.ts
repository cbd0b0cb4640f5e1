import { ApeError } from '../errors.js';

/**
 * The `code` of the `ApeError` `promise` rejects with; `'not an ApeError'` for any other rejection;
 * `undefined` when it resolves. Lets a contract assert an error path's code in one line.
 *
 * @internal
 */
export async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'not an ApeError';
  }
  return undefined;
}

/**
 * Runs `body` with the subject `subject` resolves to, then disposes of the subject (releases its
 * connections and servers) whether `body` passed or threw.
 *
 * @internal
 */
export async function withDisposed<Subject extends { readonly dispose?: () => void | Promise<void> }>(
  subject: Subject | Promise<Subject>,
  body: (subject: Subject) => Promise<void>,
): Promise<void> {
  const resolved = await subject;
  try {
    await body(resolved);
  } finally {
    await resolved.dispose?.();
  }
}
