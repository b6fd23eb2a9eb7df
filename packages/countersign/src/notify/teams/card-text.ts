/**
 * Agent-written text on an Adaptive Card. A TextBlock renders a markdown subset (links, emphasis, lists)
 * and `{{DATE(…)}}` / `{{TIME(…)}}` functions, so agent text never goes into one: it goes into TextRuns of a
 * RichTextBlock, which render their text literally. A `{{` is still split across two runs, so no client
 * that evaluates functions in runs could ever see one whole; the runs draw the same characters side by
 * side. The text is already revealed and cut (render/safe-text.ts) before it gets here.
 */
export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  fontType?: 'Monospace';
  italic?: boolean;
}

export interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: TextRun[];
}

export function runs(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun[] {
  const out: TextRun[] = [];
  let rest = text;
  for (let i = rest.indexOf('{{'); i >= 0; i = rest.indexOf('{{')) {
    out.push({ type: 'TextRun', text: rest.slice(0, i + 1), ...style });
    rest = rest.slice(i + 1);
  }
  if (rest.length > 0 || out.length === 0) out.push({ type: 'TextRun', text: rest, ...style });
  return out;
}

/** `Label: value` on one line: our own label in bold, the (agent-written) value as literal runs. */
export function field(label: string, value: string, style: Omit<TextRun, 'type' | 'text'> = {}): RichTextBlock {
  return { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: `${label}: `, weight: 'Bolder' }, ...runs(value, style)] };
}

/** A line of text as literal runs (notes that may quote agent text or refusals). */
export function line(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): RichTextBlock {
  return { type: 'RichTextBlock', inlines: runs(text, style) };
}
