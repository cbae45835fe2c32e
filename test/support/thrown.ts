import { expect } from "vitest";

/**
 * Runs `fn`, asserts it throws an instance of `type`, and returns the error so
 * the test can check its `reason` and exact message.
 */
export function thrown<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}
