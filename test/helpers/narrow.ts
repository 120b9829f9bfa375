import { expect } from 'vitest';

/** The members of a union that have the field K (required or optional). */
export type Having<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T : never) : never;

/**
 * Asserts that an evidence union (a check's `output<schema>`, one member per shape) has the field
 * `key`, as an expectation that fails with the value shown, and narrows it to the members that
 * have it, so a test reads the field without a cast.
 */
export function assertHas<T extends object, K extends string>(value: T, key: K): asserts value is Having<T, K> {
  expect(value).toHaveProperty(key);
  if (!(key in value)) throw new Error(`no field ${key}`);
}

/** The members of a union of decisions whose outcomes include O. */
export type WithOutcome<D extends { outcome: string }, O extends string> = D extends unknown ? (O extends D['outcome'] ? D : never) : never;

/**
 * Asserts a decision's outcome, as an expectation, and narrows a decision that is a union by
 * outcome (each member with its own evidence) to the members that can have it.
 */
export function assertOutcome<D extends { outcome: string }, const O extends D['outcome']>(decision: D, outcome: O): asserts decision is WithOutcome<D, O> {
  expect(decision.outcome).toBe(outcome);
  if (decision.outcome !== outcome) throw new Error(`outcome ${decision.outcome}, not ${outcome}`);
}
