import { uuidv7 } from 'uuidv7';

/** Time-ordered ids: list queries page by id and the index stays append-mostly. */
export function newId(): string {
  return uuidv7();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isId(value: string): boolean {
  return UUID_RE.test(value);
}
