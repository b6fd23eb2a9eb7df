import type { ReactNode } from 'react';
import type { Me } from '../../api/types.js';
import type { AdminSection as Section } from '../../router.js';
import { AdminAgents } from './AdminAgents.js';
import { AdminGrants } from './AdminGrants.js';
import { AdminGroups } from './AdminGroups.js';
import { AdminKeys } from './AdminKeys.js';
import { AdminPeople } from './AdminPeople.js';
import { AdminOnly } from './parts.js';

/** /admin/{people,groups,agents,keys,grants}: one chunk for the administration screens; admins only. */
export function AdminSection({ section, me }: { section: Section; me: Me }): ReactNode {
  if (me.role !== 'admin') return <AdminOnly />;
  switch (section) {
    case 'people':
      return <AdminPeople myId={me.id} />;
    case 'groups':
      return <AdminGroups />;
    case 'agents':
      return <AdminAgents />;
    case 'keys':
      return <AdminKeys />;
    case 'grants':
      return <AdminGrants />;
  }
}
