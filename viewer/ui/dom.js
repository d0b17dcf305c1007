// dom.js - the only way this UI builds DOM nodes.
//
// Span data is untrusted text (a span may be named `<img src=x onerror=...>`),
// so nothing here ever parses markup: strings become text nodes, attributes
// are set with setAttribute, styles through the CSSOM. No module of the UI
// uses innerHTML, insertAdjacentHTML or document.write.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Applies props to el: `class`, `text`, `style` (an object for the CSSOM),
// `on` (event name -> handler), `dataset` (key -> value); any other key is an
// attribute (null/undefined/false leave it unset, true sets it empty).
function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'style') Object.assign(el.style, value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// h('a', {href: '#/map', class: 'nav'}, 'Service map', child, ...) -> HTMLElement
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

// The same for SVG elements.
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// Replaces el's children with the given ones.
export function replaceChildren(el, ...children) {
  clear(el);
  appendChildren(el, children);
}

// Copies text to the clipboard; when the browser refuses (no permission, a
// non-secure origin), selects it in a read-only field so the user can copy.
export async function copyText(text, anchor) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const field = h('input', {class: 'copy-fallback', readonly: true, value: text, 'aria-label': 'Link'});
    anchor.after(field);
    field.select();
    field.addEventListener('blur', () => field.remove());
    field.focus();
    return false;
  }
}

// A button that copies the text valueFn() returns and says so for a moment.
export function copyButton(label, valueFn, extraClass = '') {
  const button = h('button', {type: 'button', class: `btn ${extraClass}`.trim()}, label);
  button.addEventListener('click', async () => {
    if (await copyText(valueFn(), button)) {
      button.textContent = 'Copied';
      setTimeout(() => { button.textContent = label; }, 1200);
    }
  });
  return button;
}
