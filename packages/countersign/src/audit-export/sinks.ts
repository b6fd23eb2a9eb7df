import type { SinkConfig } from '../config/audit-export-schema.js';
import type { Clock } from '../lib/clock.js';
import { assertNever } from '../lib/errors.js';
import { hecSink } from './hec-sink.js';
import { otlpSink } from './otlp-sink.js';
import { syslogSink } from './syslog-sink.js';
import type { Sink } from './types.js';

/** The sink a config entry describes. */
export function createSink(cfg: SinkConfig, clock: Clock): Sink {
  switch (cfg.type) {
    case 'syslog':
      return syslogSink(cfg);
    case 'hec':
      return hecSink(cfg);
    case 'otlp':
      return otlpSink(cfg, clock);
    default:
      return assertNever(cfg, 'audit export sink type');
  }
}
