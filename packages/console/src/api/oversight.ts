import { ApiError, query, request } from './client.js';
import type {
  ActionPage,
  AuditChainStatus,
  AuditCheckpoint,
  AuditList,
  AuditVerification,
  HistoryFilter,
  Stats,
  StatsQuery,
} from './oversight-types.js';

/** The calls of the history, dashboard and audit pages. */
export const oversight = {
  history: (f: HistoryFilter) => request<ActionPage>('GET', `/v1/actions${query({ ...f })}`),
  /** An action's audit entries, oldest first (its timeline); 1000 is the page limit of GET /v1/audit. */
  timeline: (actionId: string) => request<AuditList>('GET', `/v1/audit${query({ action: actionId, limit: '1000' })}`),
  stats: (q: StatsQuery) => request<Stats>('GET', `/v1/stats${query({ ...q })}`),
  chain: () => request<AuditChainStatus>('GET', '/v1/audit/head'),
  /** The latest signed checkpoint; null before the first one is signed. */
  checkpoint: async (): Promise<AuditCheckpoint | null> => {
    try {
      return await request<AuditCheckpoint>('GET', '/v1/audit/checkpoints/latest');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
  verify: () => request<AuditVerification>('POST', '/v1/audit/verify'),
  exportUrl: '/v1/audit/export',
};
