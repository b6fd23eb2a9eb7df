import { z } from 'zod';

/**
 * Free text that may span lines. NUL is the one character refused: PostgreSQL
 * cannot store it in text, and both dialects must accept the same input.
 * (Inside JSON values it is fine: stored JSON text carries it as the escape \u0000.)
 */
export const freeText = () => z.string().regex(/^[^\0]*$/, 'must not contain NUL characters');
