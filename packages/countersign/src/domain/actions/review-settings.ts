import { z } from 'zod';
import type { Deps } from '../../deps.js';

/** What the reviewer console offers when deciding: deny reason presets and the bounds of a standing grant. */
export const ReviewSettings = z
  .object({
    deny_reasons: z
      .array(z.string())
      .meta({ description: 'Preset reasons for denying (config console.deny_reasons); free text is always possible' }),
    grants: z
      .object({
        max_duration_ms: z.number().int().meta({ description: 'The longest a grant may live (grants.max_duration)' }),
        max_uses: z.number().int().meta({ description: 'The most actions a grant may approve (grants.max_uses)' }),
      })
      .meta({ description: 'Bounds of "approve and allow similar"' }),
  })
  .meta({ id: 'ReviewSettings' });
export type ReviewSettings = z.infer<typeof ReviewSettings>;

export function reviewSettings(deps: Deps): ReviewSettings {
  const c = deps.config;
  return { deny_reasons: [...c.console.denyReasons], grants: { max_duration_ms: c.grants.maxDurationMs, max_uses: c.grants.maxUses } };
}
