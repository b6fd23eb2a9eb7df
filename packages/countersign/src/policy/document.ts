import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { type NotifyRoute, NotifyRoutes } from '../config/notify-schema.js';
import { formatDuration } from '../lib/duration.js';
import { CsError, type ErrorIssue } from '../lib/errors.js';
import { withDefaultRules, withDefaultWorkflow } from './defaults.js';
import { type PolicyConfig, PolicySchema, type StageConfig, type WorkflowConfig, WorkflowsSchema } from './schema.js';

/**
 * A policy document: the `policy:` and `workflows:` sections of a config file, and the notification routes
 * (`notifications: { routes }`), which name workflows and stages and so are versioned with them: every node
 * follows the active version's routes.
 */
export const PolicyDocumentSchema = z.strictObject({
  policy: PolicySchema.optional(),
  workflows: WorkflowsSchema.optional(),
  notifications: z.strictObject({ routes: NotifyRoutes }).optional(),
});

/** The sections with the built-in defaults filled in: what `loadPolicy` compiles. */
export interface PolicySections {
  policy: PolicyConfig;
  workflows: Record<string, WorkflowConfig>;
  /** Undefined: the document names no routes (the built-in ones apply: `DEFAULT_ROUTES`). */
  routes?: NotifyRoute[] | undefined;
}

export interface ParsedDocument {
  /** What is stored as the version's document: the text as written, or the two sections of a config file. */
  text: string;
  sections: PolicySections;
  /** Whether the document names a policy or workflows at all (an empty one means the built-in defaults). */
  definesPolicy: boolean;
  /** Sections of a whole config file that were left out (never stored: they may hold credentials). */
  ignored: string[];
}

const SECTION_KEYS = new Set(['policy', 'workflows', 'notifications']);

/**
 * Reads a policy document from YAML (JSON is YAML too). `configKeys` are the other top-level keys a
 * config file may have: with them a whole config file is accepted, and only its two policy sections are
 * kept (re-rendered, so its database URL or other settings never reach the policy history). Anything
 * else is refused with every problem named.
 */
export function parsePolicyDocument(text: string, configKeys: readonly string[] = []): ParsedDocument {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new CsError('invalid_request', `the policy document is not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CsError('invalid_request', 'the policy document must be a mapping with policy: and workflows: sections');
  }
  const record = raw as Record<string, unknown>;
  const allowed = new Set(configKeys);
  const ignored = Object.keys(record).filter((k) => !SECTION_KEYS.has(k) && allowed.has(k));
  // A whole config file's `notifications:` also holds channel settings (SMTP host, Slack mode): only its
  // routes belong to the policy.
  const settingsToo = allowed.has('notifications') && isMapping(record.notifications);
  const picked = Object.fromEntries(
    Object.entries(record).filter(([k]) => !ignored.includes(k) && !(settingsToo && k === 'notifications')),
  );
  if (settingsToo) {
    const { routes, ...settings } = record.notifications as Record<string, unknown>;
    if (Object.keys(settings).length > 0) ignored.push('notifications (all but its routes)');
    if (routes !== undefined) picked.notifications = { routes };
  }
  const parsed = PolicyDocumentSchema.safeParse(picked);
  if (!parsed.success) {
    const issues: ErrorIssue[] = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
    throw new CsError('invalid_request', `the policy was refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
  }
  const sections = sectionsOf(parsed.data);
  const definesPolicy = parsed.data.policy !== undefined || parsed.data.workflows !== undefined || parsed.data.notifications !== undefined;
  const kept: Record<string, unknown> = {};
  if (record.policy !== undefined) kept.policy = record.policy;
  if (record.workflows !== undefined) kept.workflows = record.workflows;
  if (picked.notifications !== undefined) kept.notifications = picked.notifications;
  return { text: ignored.length === 0 ? text : stringifyYaml(kept), sections, definesPolicy, ignored };
}

/** The document for sections that exist only resolved (a config loaded at start): durations written back as text. */
export function renderPolicyDocument(sections: PolicySections): string {
  const workflows = Object.fromEntries(Object.entries(sections.workflows).map(([name, w]) => [name, renderWorkflow(w)]));
  return stringifyYaml({
    policy: sections.policy,
    workflows,
    ...(sections.routes === undefined
      ? {}
      : {
          notifications: { routes: sections.routes.map((r) => (r.digest === undefined ? r : { ...r, digest: formatDuration(r.digest) })) },
        }),
  });
}

function sectionsOf(doc: z.output<typeof PolicyDocumentSchema>): PolicySections {
  return { policy: withDefaultRules(doc.policy), workflows: withDefaultWorkflow(doc.workflows), routes: doc.notifications?.routes };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function renderWorkflow(w: WorkflowConfig): Record<string, unknown> {
  return {
    ...w,
    ...(w.expires_after === undefined ? {} : { expires_after: formatDuration(w.expires_after) }),
    stages: w.stages.map(renderStage),
  };
}

function renderStage(s: StageConfig): Record<string, unknown> {
  const level = (l: { after: number; approvers: unknown }) => ({ ...l, after: formatDuration(l.after) });
  const escalation =
    s.escalation === undefined
      ? undefined
      : Array.isArray(s.escalation)
        ? s.escalation.map(level)
        : { ...s.escalation, levels: s.escalation.levels.map(level) };
  return {
    ...s,
    ...(s.timeout === undefined ? {} : { timeout: formatDuration(s.timeout) }),
    ...(escalation === undefined ? {} : { escalation }),
    ...(s.step_up === undefined ? {} : { step_up: { max_age: formatDuration(s.step_up.max_age) } }),
  };
}
