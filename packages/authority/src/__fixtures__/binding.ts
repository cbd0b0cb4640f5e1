import { ApeError, type TokenBinding } from '@ape/core';

/** The binding most authority tests issue for: tenant `acme`, `session-1`, step 0, `read_file`. */
export const binding: TokenBinding = Object.freeze({
  tenant: 'acme',
  session: 'session-1',
  intentVersion: 'a'.repeat(64),
  planHash: 'b'.repeat(64),
  stepIndex: 0,
  action: 'read_file',
  argsHash: 'c'.repeat(64),
});

/** The APE error `promise` rejects with; anything else (a resolution, a non-APE error) fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<ApeError> {
  try {
    await promise;
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
