// Keys: create (every field), the secret shown once with a copy button, edit, rotate, revoke.
import { allKeys, post, patch, remove } from '../api.js';
import { h, clear, errorBox, empty, loading, pill, copyText } from '../dom.js';
import { num, integer, usd, dateTime, day, relative, text, parseTime } from '../format.js';
import { sortableTable } from '../table.js';

let sort = { key: 'created_at', dir: 'desc' };
let showRevoked = false;

export function keys(view) {
  const secretSlot = h('div', { id: 'secret-slot' });
  const formSlot = h('div', { id: 'form-slot' });
  const listPanel = h('div', { class: 'panel', id: 'keys-panel' });
  const search = h('input', { type: 'search', id: 'keys-search', placeholder: 'Filter by name', 'aria-label': 'Filter keys by name' });
  const revokedToggle = h('label', { class: 'check' },
    h('input', { type: 'checkbox', id: 'show-revoked', checked: showRevoked }), 'Show revoked');
  const newButton = h('button', { class: 'button primary', type: 'button', id: 'new-key' }, '+ New key');
  view.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Keys'), h('p', { class: 'muted' }, 'Gateway keys, their limits and their state. A secret is shown once, when it is created or rotated.')),
      h('div', { class: 'controls' }, search, revokedToggle, newButton)),
    secretSlot, formSlot, listPanel);

  let all = [];
  let totalKeys = 0;

  newButton.addEventListener('click', () => {
    clear(formSlot).append(keyForm({
      title: 'New key',
      submitLabel: 'Create key',
      onCancel: () => clear(formSlot),
      onSubmit: async (body) => {
        const created = await post('/admin/keys', body);
        clear(formSlot);
        showSecret(created?.key, `Key \u201c${created?.name ?? body.name}\u201d created`);
        await load();
      },
    }));
    formSlot.querySelector('input')?.focus();
  });
  search.addEventListener('input', () => render());
  revokedToggle.querySelector('input').addEventListener('change', (e) => { showRevoked = e.target.checked; render(); });

  function showSecret(secret, title) {
    if (!secret) {
      clear(secretSlot).append(errorBox('The gateway did not return the new secret.'));
      return;
    }
    const status = h('span', { class: 'muted', id: 'copy-status', 'aria-live': 'polite' });
    clear(secretSlot).append(h('section', { class: 'panel secret', id: 'secret-panel' },
      h('h2', {}, title),
      h('p', {}, 'Copy this secret now. It is shown only once and cannot be recovered; rotate the key if it is lost.'),
      h('div', { class: 'secret-row' },
        h('code', { id: 'key-secret' }, secret),
        h('button', {
          class: 'button primary',
          type: 'button',
          id: 'copy-secret',
          onclick: async () => { status.textContent = (await copyText(secret)) ? 'Copied to the clipboard.' : 'Copy failed: select the text and copy it.'; },
        }, 'Copy'),
        h('button', { class: 'button', type: 'button', id: 'dismiss-secret', onclick: () => clear(secretSlot) }, 'Done')),
      status));
    secretSlot.scrollIntoView({ block: 'nearest' });
  }

  async function load() {
    if (!all.length) clear(listPanel).append(loading());
    try {
      const { keys, total } = await allKeys();
      all = keys;
      totalKeys = total;
    } catch (e) {
      clear(listPanel).append(errorBox(`Could not load keys: ${e.message}`, load));
      return;
    }
    render();
  }

  function render() {
    const needle = search.value.trim().toLowerCase();
    const visible = all.filter((k) => (showRevoked || !k.revoked_at) && (!needle || String(k.name ?? '').toLowerCase().includes(needle)));
    if (!all.length) {
      clear(listPanel).append(empty('No keys yet', h('p', {}, 'Create the first key to let a team or an app call the gateway.')));
      return;
    }
    if (!visible.length) {
      clear(listPanel).append(empty('No key matches', h('p', {}, 'Change the filter or show revoked keys.')));
      return;
    }
    clear(listPanel).append(sortableTable({
      id: 'keys-table',
      rows: visible,
      sort,
      onSort: (s) => { sort = s; render(); },
      rowAttrs: (k) => ({ dataset: { keyId: k.id, keyName: k.name ?? '' } }),
      columns: [
        {
          key: 'name',
          label: 'Name',
          render: (k) => h('div', {}, h('div', { class: 'cell-main' }, text(k.name)), h('div', { class: 'cell-sub mono' }, text(k.prefix))),
        },
        { key: 'status', label: 'Status', value: status, render: (k) => statusPill(k) },
        { key: 'models', label: 'Models', value: (k) => (k.models ?? []).join(','), render: (k) => h('div', { class: 'truncate', title: (k.models ?? []).join(', ') }, k.models?.length ? k.models.join(', ') : 'all') },
        { key: 'limits', label: 'Limits', sortable: false, render: limits },
        { key: 'budget_usd', label: 'Budget', num: true, value: (k) => num(k.budget_usd), render: (k) => (num(k.budget_usd) === null ? 'none' : usd(k.budget_usd)) },
        { key: 'expires_at', label: 'Expires', value: (k) => parseTime(k.expires_at)?.getTime(), render: (k) => (k.expires_at ? h('span', { title: dateTime(k.expires_at) }, day(k.expires_at)) : 'never') },
        { key: 'last_used_at', label: 'Last used', value: (k) => parseTime(k.last_used_at)?.getTime(), render: (k) => (k.last_used_at ? relative(k.last_used_at) : 'never') },
        { key: 'created_at', label: 'Created', value: (k) => parseTime(k.created_at)?.getTime(), render: (k) => h('span', { title: dateTime(k.created_at) }, day(k.created_at)) },
        {
          key: 'actions',
          label: 'Actions',
          sortable: false,
          render: (k) => h('div', { class: 'actions' },
            h('button', { class: 'button small edit', type: 'button', disabled: Boolean(k.revoked_at), onclick: () => edit(k) }, 'Edit'),
            h('button', { class: 'button small rotate', type: 'button', disabled: Boolean(k.revoked_at), onclick: () => rotate(k) }, 'Rotate'),
            h('button', { class: 'button small danger revoke', type: 'button', disabled: Boolean(k.revoked_at), onclick: () => revoke(k) }, 'Revoke')),
        },
      ],
    }));
    if (totalKeys > all.length) listPanel.append(h('p', { class: 'muted' }, `Showing the first ${all.length} of ${totalKeys} keys.`));
  }

  function edit(key) {
    const dialog = h('dialog', { id: 'edit-dialog' });
    dialog.append(keyForm({
      title: `Edit \u201c${key.name ?? key.id}\u201d`,
      submitLabel: 'Save changes',
      key,
      onCancel: () => dialog.close(),
      onSubmit: async (body) => {
        if (Object.keys(body).length) await patch(`/admin/keys/${encodeURIComponent(key.id)}`, body);
        dialog.close();
        await load();
      },
    }));
    openDialog(dialog);
  }

  function rotate(key) {
    const grace = h('input', { type: 'number', id: 'grace-seconds', min: '0', step: '1', value: '0' });
    confirmDialog({
      id: 'rotate-dialog',
      title: `Rotate \u201c${key.name ?? key.id}\u201d?`,
      body: [
        h('p', {}, 'A new secret replaces the current one; the key keeps its id, limits and history.'),
        h('div', { class: 'field' }, h('label', { for: 'grace-seconds' }, 'Old secret keeps working for (seconds)'), grace,
          h('div', { class: 'hint' }, '0 refuses the old secret at once; give deployments time to roll over otherwise.')),
      ],
      confirmLabel: 'Rotate',
      action: async () => {
        const answer = await post(`/admin/keys/${encodeURIComponent(key.id)}/rotate`, { grace_seconds: Math.max(0, Math.floor(num(grace.value) ?? 0)) });
        showSecret(answer?.key, `New secret for \u201c${key.name ?? key.id}\u201d`);
        await load();
      },
    });
  }

  function revoke(key) {
    confirmDialog({
      id: 'revoke-dialog',
      title: `Revoke \u201c${key.name ?? key.id}\u201d?`,
      body: [h('p', {}, 'Requests with this key are refused at once, on every replica. Its usage history stays. This cannot be undone.')],
      confirmLabel: 'Revoke key',
      danger: true,
      action: async () => {
        await remove(`/admin/keys/${encodeURIComponent(key.id)}`);
        await load();
      },
    });
  }

  load();
}

function status(key) {
  if (key.revoked_at) return 'revoked';
  const expires = parseTime(key.expires_at);
  if (expires && expires.getTime() <= Date.now()) return 'expired';
  return 'active';
}

function statusPill(key) {
  const s = status(key);
  return pill(s === 'active' ? 'Active' : s === 'revoked' ? 'Revoked' : 'Expired', s === 'active' ? 'ok' : s === 'revoked' ? 'bad' : 'warn');
}

function limits(key) {
  const parts = [];
  if (num(key.rpm) !== null) parts.push(`${integer(key.rpm)} rpm`);
  if (num(key.tpm) !== null) parts.push(`${integer(key.tpm)} tpm`);
  if (num(key.max_concurrency) !== null) parts.push(`${integer(key.max_concurrency)} concurrent`);
  return parts.length ? h('div', {}, parts.map((p) => h('div', {}, p))) : h('span', { class: 'muted' }, 'defaults');
}

function openDialog(dialog) {
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
}

function confirmDialog({ id, title, body, confirmLabel, danger, action }) {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const ok = h('button', { class: `button ${danger ? 'danger solid' : 'primary'}`, type: 'button', id: `${id}-ok` }, confirmLabel);
  const dialog = h('dialog', { class: 'narrow', id },
    h('h2', {}, title), ...body, error,
    h('div', { class: 'form-actions' },
      h('button', { class: 'button', type: 'button', onclick: () => dialog.close() }, 'Cancel'), ok));
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    try {
      await action();
      dialog.close();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      ok.disabled = false;
    }
  });
  openDialog(dialog);
}

/** The create and edit form. With a key, only changed fields are sent, and cleared ones as null. */
function keyForm({ title, submitLabel, key, onSubmit, onCancel }) {
  const metadataText = metadataLines(key);
  const field = (name, label, input, hint, cls = '') => h('div', { class: `field ${cls}` },
    h('label', { for: `key-${name}` }, label), input, hint ? h('div', { class: 'hint' }, hint) : null);
  const input = (name, attrs, value) => h('input', { id: `key-${name}`, name, ...attrs, value: value ?? '' });
  const numberValue = (v) => (num(v) === null ? '' : String(num(v)));
  const expiresLocal = (() => {
    const date = parseTime(key?.expires_at);
    if (!date) return '';
    const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return local.toISOString().slice(0, 16);
  })();
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, id: 'key-form-error' });
  const submit = h('button', { class: 'button primary', type: 'submit', id: 'key-submit' }, submitLabel);
  const form = h('form', { class: key ? '' : 'panel', id: 'key-form', novalidate: true },
    h('h2', {}, title),
    h('div', { class: 'form-grid' },
      field('name', 'Name', input('name', { required: true, maxlength: '100', autocomplete: 'off' }, key?.name), 'Who or what uses it, e.g. team-a or billing-bot.', 'wide'),
      field('models', 'Allowed models', h('textarea', { id: 'key-models', name: 'models', rows: '2', placeholder: 'openai/*\nanthropic/claude-*' }, (key?.models ?? []).join('\n')), 'Glob patterns, one per line. Empty allows every model.', 'wide'),
      field('rpm', 'Requests / minute', input('rpm', { type: 'number', min: '0', step: '1', inputmode: 'numeric' }, numberValue(key?.rpm)), 'Empty: gateway default.'),
      field('tpm', 'Tokens / minute', input('tpm', { type: 'number', min: '0', step: '1', inputmode: 'numeric' }, numberValue(key?.tpm))),
      field('max_concurrency', 'Concurrent requests', input('max_concurrency', { type: 'number', min: '0', step: '1', inputmode: 'numeric' }, numberValue(key?.max_concurrency))),
      field('budget_usd', 'Budget (USD)', input('budget_usd', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal' }, numberValue(key?.budget_usd)), 'Refused with 402 once spent.'),
      field('expires_at', 'Expires at', input('expires_at', { type: 'datetime-local' }, expiresLocal), 'Local time. Empty: never.', 'wide'),
      field('referer', 'Attribution: referer', input('referer', { type: 'url', placeholder: 'https://app.example.com' }, key?.attribution?.referer), 'Sent upstream as HTTP-Referer for this key.', 'wide'),
      field('title', 'Attribution: title', input('title', {}, key?.attribution?.title), 'Shown on OpenRouter as the app name.'),
      field('categories', 'Attribution: categories', input('categories', {}, key?.attribution?.categories)),
      field('metadata', 'Metadata', h('textarea', { id: 'key-metadata', name: 'metadata', rows: '2', placeholder: 'team=payments\nowner=ana@example.com' }, metadataText), 'key=value, one per line.', 'full')),
    error,
    h('div', { class: 'form-actions' }, h('button', { class: 'button', type: 'button', onclick: onCancel }, 'Cancel'), submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    let body;
    try {
      body = readForm(form, key);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return form;
}

/** The key's metadata as the form shows it, one key=value per line. */
function metadataLines(key) {
  return key?.metadata && typeof key.metadata === 'object'
    ? Object.entries(key.metadata).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')
    : '';
}

function readForm(form, key) {
  const value = (name) => form.elements[name].value.trim();
  const name = value('name');
  if (!name) throw new Error('A name is required.');
  const numberField = (field, label, integerOnly) => {
    const raw = value(field);
    if (!raw) return null;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integerOnly && !Number.isInteger(n))) throw new Error(`${label} must be ${integerOnly ? 'a whole number' : 'a number'} of 0 or more.`);
    return n;
  };
  const expires = value('expires_at');
  const expiresAt = expires ? new Date(expires) : null;
  if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new Error('Expires at is not a valid date.');
  const metadata = {};
  for (const line of value('metadata').split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`Metadata line \u201c${line.trim()}\u201d needs the form key=value.`);
    metadata[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const attribution = {};
  for (const field of ['referer', 'title', 'categories']) if (value(field)) attribution[field] = value(field);
  const wanted = {
    name,
    models: value('models').split(/[\n,]/).map((m) => m.trim()).filter(Boolean),
    rpm: numberField('rpm', 'Requests / minute', true),
    tpm: numberField('tpm', 'Tokens / minute', true),
    max_concurrency: numberField('max_concurrency', 'Concurrent requests', true),
    budget_usd: numberField('budget_usd', 'Budget', false),
    expires_at: expiresAt ? expiresAt.toISOString() : null,
    attribution: Object.keys(attribution).length ? attribution : null,
    metadata: Object.keys(metadata).length ? metadata : null,
  };
  if (!key) {
    // Creation: send only what was filled in (every field but the name is optional).
    const body = {};
    for (const [field, v] of Object.entries(wanted)) {
      if (v !== null && !(Array.isArray(v) && !v.length)) body[field] = v;
    }
    return body;
  }
  const current = {
    name: key.name ?? '',
    models: key.models ?? [],
    rpm: num(key.rpm),
    tpm: num(key.tpm),
    max_concurrency: num(key.max_concurrency),
    budget_usd: num(key.budget_usd),
    // The form edits at minute precision: compare at that precision too.
    expires_at: toMinute(parseTime(key.expires_at)),
    // The API names all three fields, unset ones as null: compare only what is set, in the form's order.
    attribution: setFields(key.attribution, ['referer', 'title', 'categories']),
    metadata: key.metadata && Object.keys(key.metadata).length ? key.metadata : null,
  };
  const changes = {};
  // Metadata left as shown is not sent: its lines do not always read back as the labels they show
  // (a name with '=' or outer spaces, which the API allows), and a PATCH replaces them all.
  const metadataUntouched = value('metadata') === metadataLines(key).trim();
  for (const [field, v] of Object.entries(wanted)) {
    if (field === 'metadata' && metadataUntouched) continue;
    if (JSON.stringify(v) !== JSON.stringify(current[field])) {
      if (field === 'attribution') {
        // The API merges attribution field by field: name all three, null for the ones cleared.
        changes[field] = { referer: v?.referer ?? null, title: v?.title ?? null, categories: v?.categories ?? null };
      } else {
        changes[field] = v === null && field === 'metadata' ? {} : v;
      }
    }
  }
  return changes;
}

function setFields(object, fields) {
  const set = {};
  for (const field of fields) if (object?.[field] !== null && object?.[field] !== undefined && object[field] !== '') set[field] = object[field];
  return Object.keys(set).length ? set : null;
}

function toMinute(date) {
  return date ? new Date(Math.floor(date.getTime() / 60000) * 60000).toISOString() : null;
}
