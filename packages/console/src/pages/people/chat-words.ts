import type { ChatLinkView } from '../../api/people-types.js';

/** The chat platform's name as people say it. */
export function platformName(p: ChatLinkView['platform']): string {
  switch (p) {
    case 'slack':
      return 'Slack';
    case 'teams':
      return 'Microsoft Teams';
    default:
      return p satisfies never;
  }
}

/** What the workspace id is called on that platform. */
export function workspaceWord(p: ChatLinkView['platform']): string {
  return p === 'slack' ? 'workspace' : 'tenant';
}
