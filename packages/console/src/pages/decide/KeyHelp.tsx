import { type ReactNode, useEffect, useId, useRef } from 'react';
import { KEY_HELP } from './keys.js';

/** The keyboard shortcuts, in a modal dialog with a heading (Esc or the button closes it). */
export function KeyHelp({ open, onClose, where }: { open: boolean; onClose: () => void; where: 'inbox' | 'action' }): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="key-help" aria-labelledby={id} onClose={onClose}>
      <h2 id={id}>Keyboard shortcuts</h2>
      <dl>
        {KEY_HELP.filter((k) => where === 'inbox' || k.where === 'both').map((k) => (
          <div key={k.key}>
            <dt>
              <kbd>{k.key}</kbd>
            </dt>
            <dd>{k.what}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">Shortcuts never fire while you type in a text box.</p>
      <button type="button" onClick={onClose}>
        Close
      </button>
    </dialog>
  );
}
