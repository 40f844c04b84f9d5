// shortcuts.js - the keys that work anywhere on the page, and the "?" dialog
// that lists every shortcut. Keys are ignored while typing in a field.
import { $, typing } from './dom.js';

export function init(handlers) {
  const help = $('#help-dialog');
  $('#help-btn').addEventListener('click', () => help.showModal());
  $('#help-close').addEventListener('click', () => help.close());
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev)) return;
    const inDialog = ev.target instanceof Element && ev.target.closest('dialog');
    if (ev.key === '?') {
      ev.preventDefault();
      if (help.open) help.close(); else if (!document.querySelector('dialog[open]')) help.showModal();
      return;
    }
    if (inDialog) {
      if (ev.key === 'c' && handlers.compare) { ev.preventDefault(); handlers.compare(); }
      return;
    }
    const fn = handlers[ev.key];
    if (fn) { ev.preventDefault(); fn(); }
  });
}
