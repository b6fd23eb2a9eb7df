import { z } from 'zod';
import { ROLES } from './principal.js';

/** Wire shapes of the admin API (http/routes/admin-*.ts); the domain verbs validate their own input. */

export const PersonView = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    groups: z.array(z.string()),
    disabled: z.boolean(),
    created_at: z.string(),
    active_keys: z.number().int().meta({ description: 'Keys not revoked (a disabled person’s keys are refused all the same)' }),
  })
  .meta({ id: 'Person' });

export const AgentAdminView = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string().meta({ description: 'The owner’s email' }),
    labels: z.record(z.string(), z.string()),
    disabled: z.boolean(),
    created_at: z.string(),
    active_keys: z.number().int(),
  })
  .meta({ id: 'AgentAdmin' });

export const KeyView = z
  .object({
    prefix: z.string(),
    principal_type: z.enum(['user', 'agent']),
    principal: z.string().meta({ description: 'The person’s email or the agent’s name' }),
    label: z.string().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    last_used_at: z
      .string()
      .nullable()
      .meta({ description: 'When it last authenticated a request (recorded at most once a minute); null: never' }),
  })
  .meta({ id: 'ApiKey' });

export const GroupView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: z.string(),
    members: z.array(z.string()).meta({ description: 'Members’ emails' }),
  })
  .meta({ id: 'Group' });

export const IssuedKeyView = z
  .object({
    api_key: z.string().meta({ description: 'Shown once; only its hash is stored' }),
    key_prefix: z.string(),
  })
  .meta({ id: 'IssuedKey' });

export const CreatePersonBody = z
  .strictObject({
    email: z.email().max(320),
    name: z.string().min(1).max(200).optional(),
    role: z.enum(ROLES).optional(),
    groups: z.array(z.string()).max(64).optional(),
    issue_key: z.boolean().optional().meta({ description: 'Also issue an API key (default: no; people sign in)' }),
  })
  .meta({ id: 'CreatePerson' });

export const CreateAgentBody = z
  .strictObject({
    name: z.string(),
    owner: z.email().meta({ description: 'An existing person’s email' }),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .meta({ id: 'CreateAgent' });

export const CreateGroupBody = z.strictObject({ name: z.string(), description: z.string().optional() }).meta({ id: 'CreateGroup' });

export const SetRoleBody = z.strictObject({ role: z.enum(ROLES) }).meta({ id: 'SetRole' });
export const SetGroupsBody = z.strictObject({ groups: z.array(z.string()).max(64) }).meta({ id: 'SetGroups' });
export const IssueKeyBody = z.strictObject({ label: z.string().min(1).max(200).optional() }).meta({ id: 'IssueKey' });
export const DisableAgentBody = z.strictObject({ reason: z.string().max(1000).optional() }).meta({ id: 'DisableAgent' });

export const UserParams = z.strictObject({ user: z.string().min(1).max(320).meta({ description: 'Email or id' }) });
export const AgentParams = z.strictObject({ agent: z.string().min(1).max(128).meta({ description: 'Name or id' }) });
export const KeyParams = z.strictObject({ prefix: z.string().min(1).max(200) });
export const ListKeysQuery = z.strictObject({
  of: z.string().min(1).max(320).optional().meta({ description: 'One person (email) or agent (name or id)' }),
});
