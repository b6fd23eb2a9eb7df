import { useEffect, useRef } from 'react';
import { commandOf, type KeyCommand, type KeyTarget } from './keys.js';

/**
 * Listens for the shortcuts on the whole page. `handle` returns true when it acted (the key is then
 * consumed). Nothing fires while a modal dialog is open (it has its own keys) or while typing.
 */
export function useKeys(handle: (cmd: KeyCommand) => boolean): void {
  const ref = useRef(handle);
  ref.current = handle;
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
      const cmd = commandOf({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, target: e.target as KeyTarget | null });
      if (cmd !== null && ref.current(cmd)) e.preventDefault();
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
