import type { Config } from '../../../config/schema.js';

/** The origin browsers see the gateway at: the public URL, else the address it listens on. */
export function publicOriginOf(config: Config): URL {
  if (config.server.publicUrl) return new URL(config.server.publicUrl);
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return new URL(`http://${host}:${config.server.port}`);
}
