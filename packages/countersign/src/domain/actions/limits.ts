import type { Config } from '../../config/schema.js';
import { CsError } from '../../lib/errors.js';
import { jsonDepth, utf8Bytes } from '../../lib/json-shape.js';

/** Size and depth limits on agent-supplied JSON: it is attacker-controlled and ends up in front of people. */
export function checkArguments(config: Config, field: string, value: unknown): string {
  const depth = jsonDepth(value, config.limits.argumentsDepth);
  if (depth > config.limits.argumentsDepth) {
    throw new CsError('invalid_request', `${field} is nested deeper than ${config.limits.argumentsDepth} levels`, {
      issues: [{ path: field, message: `nesting deeper than ${config.limits.argumentsDepth}` }],
    });
  }
  const text = JSON.stringify(value) ?? 'null';
  if (utf8Bytes(text) > config.limits.argumentsBytes) {
    throw new CsError('invalid_request', `${field} is larger than ${config.limits.argumentsBytes} bytes`, {
      issues: [{ path: field, message: `larger than ${config.limits.argumentsBytes} bytes` }],
    });
  }
  return text;
}

export function checkReason(config: Config, reason: string | undefined): string | null {
  if (reason === undefined) return null;
  const trimmed = reason.trim();
  if (utf8Bytes(trimmed) > config.limits.reasonBytes) {
    throw new CsError('invalid_request', `reason is longer than ${config.limits.reasonBytes} bytes`, {
      issues: [{ path: 'reason', message: `longer than ${config.limits.reasonBytes} bytes` }],
    });
  }
  return trimmed === '' ? null : trimmed;
}
