export { loadConfig } from './config/load.js';
export type { Config } from './config/schema.js';
export { startGateway, type Gateway } from './gateway.js';
export { createDeps, closeDeps, type Deps } from './deps.js';
export { CsError, ERROR_CODES, type ErrorCode } from './lib/errors.js';
export { FakeClock, systemClock, type Clock } from './lib/clock.js';
export * as schemas from './domain/actions/schemas.js';
export { canonicalJson } from './lib/canonical.js';
