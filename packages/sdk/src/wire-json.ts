import { CountersignError } from './errors.js';

/**
 * JSON text of a request body, refusing what JSON cannot carry exactly instead of sending something
 * else: JSON.stringify writes NaN and ±Infinity as null (the reviewer would approve, and the receipt
 * bind, a null the agent never meant) and throws an opaque TypeError on a BigInt. The gateway refuses
 * the rest itself (integers beyond ±(2^53−1), lone surrogates) with a 400 naming the field.
 */
export function wireJson(body: unknown): string {
  return JSON.stringify(body, (key, value: unknown) => {
    if (typeof value === 'bigint') {
      throw new CountersignError('invalid_request', `"${key}" is a BigInt, which JSON cannot carry; send it as a string`);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new CountersignError('invalid_request', `"${key}" is ${value}, which JSON cannot carry (it would arrive as null)`);
    }
    return value;
  });
}
