// A tiny element builder: text is always set as text, never parsed as HTML, so no value from the
// API can inject markup into the page.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function errorBox(message, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('span', {}, message),
    retry ? h('button', { class: 'button small', type: 'button', onclick: retry }, 'Retry') : null);
}

export function empty(title, ...body) {
  return h('div', { class: 'empty' }, h('h2', {}, title), ...body);
}

export function loading(label = 'Loading\u2026') {
  return h('div', { class: 'loading' }, label);
}

export function pill(label, tone) {
  return h('span', { class: `pill ${tone ?? ''}` }, label);
}

export async function copyText(value) {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch (e) {
    // Clipboard API refused (not a secure context): fall back to a selected hidden field.
    const area = h('textarea', { readonly: true });
    area.value = value;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
