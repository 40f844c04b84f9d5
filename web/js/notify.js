// notify.js - short messages for the user: a polite live region for status
// ("Searching…", "Pasted an image") and an alert for errors. Each replaces
// the last; info fades after a few seconds, errors stay until dismissed.
import { $, clear, h } from './dom.js';

let timer = 0;

export function notify(text, kind = 'info') {
  const box = $('#toast');
  clearTimeout(timer);
  box.className = `toast ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  clear(box).append(h('span', {}, text),
    h('button', { type: 'button', class: 'btn small icon', 'aria-label': 'Dismiss', onclick: () => { box.hidden = true; } }, '×'));
  box.hidden = false;
  if (kind !== 'error') timer = setTimeout(() => { box.hidden = true; }, 4000);
}

// The status line that screen readers follow (results announced, etc.).
export function announce(text) {
  $('#live').textContent = text;
}
