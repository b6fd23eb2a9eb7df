/**
 * The wire types of the console's overseeing pages (history, dashboard, audit), held to the gateway's zod
 * schemas by test/oversight-contract.test.ts. Types only.
 */
import type { Action, ActionStatus } from '@countersign/sdk';

/** GET /v1/actions filters, as the history page sends them (times as ISO 8601). */
export interface HistoryFilter {
  status?: ActionStatus | undefined;
  agent?: string | undefined;
  tool?: string | undefined;
  decided_by?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  q?: string | undefined;
  workflow?: string | undefined;
  cursor?: string | undefined;
  limit?: string | undefined;
}

export interface ActionPage {
  items: Action[];
  next_cursor: string | null;
}

/** One audit entry (GET /v1/audit). */
export interface AuditEntry {
  seq: number;
  ts: number;
  time: string;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditList {
  items: AuditEntry[];
  next_cursor: string | null;
}

export interface AuditChainStatus {
  length: number;
  head_hash: string;
  health: {
    state: 'unverified' | 'intact' | 'tampered';
    first_bad_seq: number | null;
    problem: string | null;
    at: string | null;
  };
}

export interface AuditCheckpoint {
  origin: string;
  size: number;
  head_hash: string;
  kid: string;
  created_at: string;
  note: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  head_seq: number;
  head_hash: string;
  checkpoints_matched: number;
  latest_checkpoint: { size: number; head_hash: string; kid: string } | null;
  first_bad: { seq: number; kind: string; problem: string } | null;
  verified_at: string;
}

export type StatsBucket = 'hour' | 'day';

export interface StatsQuery {
  from?: string | undefined;
  to?: string | undefined;
  bucket?: StatsBucket | undefined;
}

export type StatusCounts = Record<ActionStatus, number>;

export interface Stats {
  from: string;
  to: string;
  bucket: StatsBucket;
  totals: StatusCounts & { total: number };
  approval_rate: number | null;
  outcomes: (StatusCounts & { start: string })[];
  decision_times: { start: string; decided: number; p50_ms: number | null; p90_ms: number | null }[];
  pending_ages: { label: string; count: number }[];
  top_tools: { name: string; count: number }[];
  top_agents: { name: string; count: number }[];
  reviewers: { reviewer: string; votes: number; approve: number; deny: number }[];
}
