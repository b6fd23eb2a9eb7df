/** A person a reply mentions: their Teams user id (as the Connector knows them) and the name shown. */
export interface Mention {
  id: string;
  name: string;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The reply a reminder or an escalation posts under its card: our own words (no agent text: the card says
 * what is asked) and an `<at>` mention of each person asked, with the `mention` entity Teams needs to make
 * it a real mention (a mention notifies the person; an edited card notifies nobody). XML text, escaped.
 */
export function nudgeActivity(words: string, people: readonly Mention[]): Record<string, unknown> {
  const unique = [...new Map(people.map((p) => [p.id, p])).values()];
  const tags = unique.map((p) => `<at>${escapeXml(p.name)}</at>`);
  return {
    type: 'message',
    textFormat: 'xml',
    text: [escapeXml(words), ...tags].join(' '),
    entities: unique.map((p, i) => ({ type: 'mention', text: tags[i], mentioned: { id: p.id, name: p.name } })),
  };
}
