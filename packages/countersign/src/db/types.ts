/** Row shapes. JSON is stored as text in both dialects so hashed bytes are the stored bytes. Times are epoch ms. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: string;
  created_at: number;
  disabled_at: number | null;
}

/** Named groups of people (migration 009); stage approvers and IdP group mappings name them. */
export interface GroupsTable {
  id: string;
  name: string;
  description: string | null;
  created_at: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  created_at: number;
}

export interface AgentsTable {
  id: string;
  name: string;
  owner_id: string;
  labels: string;
  created_at: number;
  disabled_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  prefix: string;
  secret_hash: string;
  principal_type: string;
  principal_id: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
  /** At most a minute stale (touch-key.ts); null: never used. */
  last_used_at: number | null;
}

/**
 * An action as the domain reads and writes it. Its frozen texts (`policy`, `workflow`) are stored once per
 * distinct text in `frozen_documents` (migration 028) and the stored row keeps their digests
 * (`StoredActionsTable`); its receipt is stored in `receipts` (migration 029); domain/actions/action-rows.ts
 * reads rows of this shape back.
 */
export interface ActionsTable {
  id: string;
  agent_id: string;
  agent_name: string;
  agent_owner_id: string;
  tool: string;
  arguments: string;
  original_arguments: string | null;
  resource: string | null;
  purpose: string | null;
  on_behalf_of: string | null;
  session_id: string | null;
  parent_id: string | null;
  /** The top-level ancestor of a `parent_id` chain; null for an action without a parent. */
  root_id: string | null;
  annotations: string;
  metadata: string;
  status: string;
  version: number;
  /** The policy decision (JSON), frozen when the action was created. */
  policy: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  decided_at: number | null;
  decided_by_type: string | null;
  decided_by_id: string | null;
  decided_by_label: string | null;
  reason: string | null;
  result_outcome: string | null;
  result_output: string | null;
  result_at: number | null;
  /** The resolved workflow (JSON), frozen when the action was created; null when no review was needed. */
  workflow: string | null;
  /**
   * A short digest of `workflow` (domain/actions/inbox-workflow-key.ts), written with the action; null with
   * it, and for actions already decided when migration 026 ran (it back-filled the pending ones).
   */
  workflow_key: string | null;
  /** Index of the current stage while pending under a workflow. */
  stage: number | null;
  stage_started_at: number | null;
  /** Escalation firings in the current stage (levels fired, then reminders). */
  escalations: number;
  grant_id: string | null;
  batch_id: string | null;
  /** The signed approval receipt (compact JWS), issued with the approval; stored in `receipts` (migration 029). */
  receipt: string | null;
  receipt_jti: string | null;
  /** End of the execution window; an approved action not redeemed by then expires. */
  execute_by: number | null;
  redeemed_at: number | null;
  /** The proposing request's W3C trace context (migration 025); null when tracing was off. */
  traceparent: string | null;
  tracestate: string | null;
}

/** The frozen texts of an action, stored by digest (migration 028). */
export type FrozenColumn = 'policy' | 'workflow';

/**
 * The `actions` table as stored: the frozen texts replaced by the SHA-256 (hex; bytea on PostgreSQL,
 * capabilities.binaryHashes) of each, the key of its `frozen_documents` row. The policy decision and the
 * workflow are the same text for every action of a rule, and PostgreSQL copies the whole row on each of an
 * action's updates, so by digest they cost one 33-byte value a row instead of ~380 bytes of text.
 */
export type StoredActionsTable = Omit<ActionsTable, FrozenColumn | 'receipt'> & {
  policy_digest: string;
  /** Null when no review was needed (no workflow was frozen). */
  workflow_digest: string | null;
};

/**
 * An approved action's signed receipt (migration 029), apart from the `actions` row: written once, with the
 * approval, and never changed, while the row is updated after it (redeemed, result reported) and PostgreSQL
 * copies the whole row on each update. One row per approved action; none for the others.
 */
export interface ReceiptsTable {
  action_id: string;
  /**
   * The compact JWS as its bytes (bytea on PostgreSQL, blob on SQLite: capabilities.bytesType), framed by
   * domain/receipts/stored-receipt.ts, which alone writes and reads it (the text exactly as issued). Written
   * as a Buffer; the PostgreSQL pool reads bytea back as hex text.
   */
  body: Buffer;
}

/** A frozen text (an action's policy decision or workflow), stored once; its key is the SHA-256 of the exact text. */
export interface FrozenDocumentsTable {
  /** Hex SHA-256 of `text` (bytea on PostgreSQL). A text never changes, so neither does its row. */
  digest: string;
  text: string;
}

/** Every stored column of actions, in table order (compiled inserts name them all). */
export const ACTION_COLUMNS = [
  'id',
  'agent_id',
  'agent_name',
  'agent_owner_id',
  'tool',
  'arguments',
  'original_arguments',
  'resource',
  'purpose',
  'on_behalf_of',
  'session_id',
  'parent_id',
  'root_id',
  'annotations',
  'metadata',
  'status',
  'version',
  'policy_digest',
  'idempotency_key',
  'request_hash',
  'created_at',
  'updated_at',
  'expires_at',
  'decided_at',
  'decided_by_type',
  'decided_by_id',
  'decided_by_label',
  'reason',
  'result_outcome',
  'result_output',
  'result_at',
  'workflow_digest',
  'workflow_key',
  'stage',
  'stage_started_at',
  'escalations',
  'grant_id',
  'batch_id',
  'receipt_jti',
  'execute_by',
  'redeemed_at',
  'traceparent',
  'tracestate',
] as const satisfies readonly (keyof StoredActionsTable)[];

export interface ReviewsTable {
  id: string;
  action_id: string;
  reviewer_id: string;
  reviewer_email: string;
  decision: string;
  reason: string | null;
  arguments: string | null;
  channel: string;
  created_at: number;
  stage: number | null;
  /** Whose vote this is when cast by a delegate (migration 013); null: the reviewer's own. */
  for_user_id: string | null;
  for_email: string | null;
  delegation_id: string | null;
}

/** A durable deadline inside a workflow stage; fired by the scheduler, on any node, exactly once. */
export interface TimersTable {
  id: string;
  action_id: string;
  kind: string;
  stage: number;
  stage_started_at: number;
  firing: number;
  due_at: number;
}

export interface GrantsTable {
  id: string;
  agent_id: string;
  session_id: string | null;
  tool: string;
  match_kind: string;
  match: string;
  created_by_id: string;
  created_by_email: string;
  source_action_id: string;
  created_at: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
  revoked_by: string | null;
  version: number;
}

export interface PoliciesTable {
  hash: string;
  source: string;
  first_loaded_at: number;
  last_loaded_at: number;
}

/** One activation of a policy: append-only history (migration 008). */
export interface PolicyVersionsTable {
  version: number;
  hash: string;
  /** The document as applied (YAML with `policy:` and `workflows:`). */
  document: string;
  default_expiry_ms: number;
  applied_at: number;
  applied_by_type: string;
  applied_by_id: string | null;
  applied_by_label: string;
  trigger: string;
  note: string | null;
  /** For a rollback: the version whose document it restored. */
  restored_from: number | null;
}

/** One row (id 1): the version every node decides with; 0 before the first. */
export interface PolicyActiveTable {
  id: number;
  version: number;
}

export interface AuditLogTable {
  seq: number;
  ts: number;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface EventsTable {
  seq: number;
  ts: number;
  type: string;
  action_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  root_id: string | null;
  data: string;
}

/** Single row (id = 1): the head of the audit chain and the event log, locked by every writing transaction. */
export interface ChainHeadTable {
  id: number;
  audit_seq: number;
  audit_hash: string;
  event_seq: number;
}

/** One row (id 1): bumped with every revocation, disable, enable, role or group change. */
export interface IdentityEpochTable {
  id: number;
  epoch: number;
}

export interface AuditCheckpointsTable {
  size: number;
  head_hash: string;
  kid: string;
  note: string;
  created_at: number;
}

export interface SigningKeysTable {
  kid: string;
  public_jwk: string;
  created_at: number;
}

/** A durable consumer: its cursor (every event at or below it was handled, or is retried / dead-lettered) and its lease. */
export interface EventConsumersTable {
  name: string;
  cursor: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  registered_at: number;
  updated_at: number;
  cursor_ts: number | null;
}

/** An event whose handler failed and will be tried again at next_attempt_at. */
export interface EventConsumerRetriesTable {
  consumer: string;
  seq: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string;
  first_failed_at: number;
}

/** An event a consumer gave up on after its attempts; an admin replays it (once per entry). */
export interface EventDeadLettersTable {
  id: string;
  consumer: string;
  seq: number;
  event_type: string;
  attempts: number;
  last_error: string;
  dead_lettered_at: number;
  replayed_at: number | null;
  replayed_by: string | null;
}

/** A person's account at an OpenID Connect provider: found by (issuer, subject), never by email. */
export interface LinkedIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  /** The email the IdP asserted at the last sign-in (informational). */
  email: string | null;
  created_at: number;
  last_sign_in_at: number | null;
}

/** A sign-in started at the IdP and not yet finished; single-use (`consumed_at`). */
export interface OidcLoginAttemptsTable {
  state_hash: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  max_age: number | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface DB {
  users: UsersTable;
  agents: AgentsTable;
  api_keys: ApiKeysTable;
  actions: StoredActionsTable;
  frozen_documents: FrozenDocumentsTable;
  receipts: ReceiptsTable;
  reviews: ReviewsTable;
  audit_log: AuditLogTable;
  events: EventsTable;
  chain_head: ChainHeadTable;
  timers: TimersTable;
  grants: GrantsTable;
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  policy_active: PolicyActiveTable;
  audit_checkpoints: AuditCheckpointsTable;
  signing_keys: SigningKeysTable;
  identity_epoch: IdentityEpochTable;
  event_consumers: EventConsumersTable;
  event_consumer_retries: EventConsumerRetriesTable;
  event_dead_letters: EventDeadLettersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  linked_identities: LinkedIdentitiesTable;
  oidc_login_attempts: OidcLoginAttemptsTable;
  sessions: SessionsTable;
  local_passwords: LocalPasswordsTable;
  one_time_links: OneTimeLinksTable;
  sign_in_throttle: SignInThrottleTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  delegations: DelegationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  email_decision_links: EmailDecisionLinksTable;
  slack_messages: SlackMessagesTable;
  slack_seen_requests: SlackSeenRequestsTable;
  teams_conversations: TeamsConversationsTable;
  teams_users: TeamsUsersTable;
  teams_cards: TeamsCardsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  chat_link_requests: ChatLinkRequestsTable;
  stats_rollup: StatsRollupTable;
  audit_export_sinks: AuditExportSinksTable;
}

/** A SIEM sink's cursor (audit seq; every entry up to it was sent), the hash it must link to, its lease and back-off (migration 024). */
export interface AuditExportSinksTable {
  name: string;
  cursor: number;
  cursor_hash: string;
  cursor_ts: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** Failed sends of the batch after the cursor since the last success. */
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  /** When a batch was last delivered. */
  sent_at: number | null;
  registered_at: number;
  updated_at: number;
}

/** The dashboard's counts per hour and per day (migration 022; kinds and upkeep in db/stats-rollup/tallies.ts). */
export interface StatsRollupTable {
  kind: string;
  /** The period a row counts, in ms: an hour or a day. */
  grain: number;
  /** The period's start (epoch ms, a multiple of grain). */
  start: number;
  key: string;
  n: number;
}

/** A delegate may vote for the delegator from starts_at until ends_at (exclusive), unless revoked (migration 013). */
export interface DelegationsTable {
  id: string;
  delegator_id: string;
  delegate_id: string;
  starts_at: number;
  ends_at: number;
  reason: string | null;
  created_at: number;
  created_by_id: string;
  revoked_at: number | null;
  revoked_by_id: string | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  method: string;
  strong_at: number | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_agent: string | null;
  ip: string | null;
}

export interface LocalPasswordsTable {
  user_id: string;
  hash: string;
  updated_at: number;
}

export interface OneTimeLinksTable {
  id: string;
  token_hash: string;
  kind: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface SignInThrottleTable {
  key: string;
  failures: number;
  first_failure_at: number;
  locked_until: number | null;
}

/** Passkey credentials (migration 012). */
export interface PasskeysTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number;
  /** JSON array of strings. */
  transports: string;
  name: string;
  device_type: string;
  /** 0 or 1. */
  backed_up: number;
  created_at: number;
  last_used_at: number | null;
}

/** WebAuthn challenges, single-use, keyed by sha256(challenge) (migration 012). */
export interface WebauthnChallengesTable {
  challenge_hash: string;
  purpose: string;
  user_id: string;
  session_id: string | null;
  pending_hash: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** One notification to one recipient on one channel for one event (migration 016). */
export interface NotificationDeliveriesTable {
  id: string;
  event_key: string;
  event_seq: number;
  event_type: string;
  event_ts: number;
  action_id: string | null;
  channel: string;
  recipient: string;
  user_id: string | null;
  status: 'queued' | 'sent' | 'failed' | 'dead';
  attempts: number;
  last_error: string | null;
  external_ref: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

/** An approve or deny link in a notification email: the token's hash, single-use, short-lived (migration 017). */
export interface EmailDecisionLinksTable {
  id: string;
  token_hash: string;
  action_id: string;
  user_id: string;
  decision: 'approve' | 'deny';
  delivery_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** An outbound webhook endpoint (migration 018); secrets AES-256-GCM encrypted, `version` its compare-and-set counter. */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string;
  /** JSON array of event types; empty: every type. */
  event_types: string;
  allow_insecure: number;
  allow_private: number;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_expires_at: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  version: number;
  created_at: number;
  created_by: string;
  updated_at: number;
}

/** One delivery attempt to a webhook endpoint (migration 018). */
export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  seq: number | null;
  event_type: string;
  webhook_id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  at: number;
}

/** A request to link a chat account to whoever confirms it in the console (migration 019); single-use, the token's sha256 only. */
export interface ChatLinkRequestsTable {
  token_hash: string;
  platform: 'slack' | 'teams';
  workspace: string;
  chat_user: string;
  /** The chat name shown to the person confirming (chat-supplied text). */
  display: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** Who confirmed it (null while unused, and for a request a newer one superseded). */
  confirmed_by: string | null;
}

/** A Slack message posted about an action (migration 020): where it is, so every copy is updated after the decision. */
export interface SlackMessagesTable {
  id: string;
  action_id: string;
  /** The conversation it was posted in (C… / G… channel, or the D… of a direct message). */
  channel: string;
  /** Slack's id of the message in that conversation. */
  ts: string;
  /** The notification delivery that posted it (one message per delivery). */
  delivery_id: string;
  /** `#C…` for a channel target, `@U…` for a direct message. */
  recipient: string;
  created_at: number;
  updated_at: number;
  /** The final status it was last updated to show; null while it still asks. */
  outcome: string | null;
}

/** The signature of an accepted Slack interaction request, kept until it is too old to be accepted anyway (migration 020). */
export interface SlackSeenRequestsTable {
  signature: string;
  expires_at: number;
}

/** A conversation the Teams bot may post to: a personal chat, a channel, a group chat (migration 021). */
export interface TeamsConversationsTable {
  id: string;
  tenant_id: string;
  service_url: string;
  conversation_type: string;
  aad_object_id: string | null;
  teams_user_id: string | null;
  updated_at: number;
}

/** A Teams user the bot has seen: Entra object id → Teams user id (migration 021). */
export interface TeamsUsersTable {
  tenant_id: string;
  aad_object_id: string;
  teams_user_id: string;
  service_url: string;
  updated_at: number;
}

/** A card the Teams bot posted for an action, one per delivery; updates PUT to its activity (migration 021). */
export interface TeamsCardsTable {
  id: string;
  delivery_id: string;
  action_id: string;
  recipient: string;
  conversation_id: string;
  service_url: string;
  activity_id: string;
  created_at: number;
}
