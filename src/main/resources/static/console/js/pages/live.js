// Live requests: the last N requests, refreshed every few seconds while the page is open.
import { get, rows, query } from '../api.js';
import { h, clear, errorBox, empty, loading, pill } from '../dom.js';
import { num, integer, usd, ms, clock, relative, text } from '../format.js';

const REFRESH_MS = 2000;
const settings = { limit: 50, paused: false };

export function live(view) {
  const limit = h('select', { id: 'live-limit', 'aria-label': 'Number of requests' },
    [25, 50, 100, 200].map((n) => h('option', { value: String(n), selected: n === settings.limit }, `Last ${n}`)));
  const pause = h('button', { class: 'button', type: 'button', id: 'live-pause' });
  const meta = h('span', { class: 'live-meta', id: 'live-meta', 'aria-live': 'polite' });
  const body = h('div', { class: 'panel', id: 'live' }, loading());
  view.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Live requests'), h('p', { class: 'muted' }, 'The most recent requests through the gateway, newest first.')),
      h('div', { class: 'controls' }, meta, limit, pause)),
    body);

  let timer = null;
  let inFlight = false;
  let lastError = null;

  const paint = () => {
    pause.textContent = settings.paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(settings.paused));
  };
  paint();
  limit.addEventListener('change', () => { settings.limit = Number(limit.value); refresh(); });
  pause.addEventListener('click', () => {
    settings.paused = !settings.paused;
    paint();
    schedule();
  });

  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      const data = rows(await get(`/admin/usage/recent${query({ limit: settings.limit })}`));
      lastError = null;
      render(data);
    } catch (e) {
      lastError = e;
      const box = errorBox(`Could not load recent requests: ${e.message}`, refresh);
      if (body.querySelector('table')) body.prepend(box); else clear(body).append(box);
      body.querySelectorAll('.error-box').forEach((el, i) => { if (i > 0) el.remove(); });
    } finally {
      inFlight = false;
      meta.replaceChildren(h('span', { class: `dot ${settings.paused ? 'paused' : ''}` }),
        settings.paused ? 'Paused' : `Updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}${lastError ? ' (failed)' : ''}`);
    }
  }

  function render(data) {
    if (!data.length) {
      clear(body).append(empty('No requests yet', h('p', {}, 'This list fills as soon as a request goes through the gateway.')));
      return;
    }
    const table = h('table', { id: 'live-table', class: 'stack' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Time'), h('th', {}, 'Key'), h('th', {}, 'Model'), h('th', {}, 'Status'),
        h('th', { class: 'num' }, 'Tokens in / out'), h('th', { class: 'num' }, 'Cost'),
        h('th', { class: 'num' }, 'Latency'), h('th', { class: 'num' }, 'TTFT'), h('th', {}, 'Request id'))),
      h('tbody', {}, data.map((r) => h('tr', { dataset: { requestId: r.request_id ?? '' } },
        h('td', { title: relative(r.created_at), 'data-label': 'Time' }, clock(r.created_at)),
        h('td', { 'data-label': 'Key' }, text(r.key_name ?? r.key_id)),
        h('td', { 'data-label': 'Model' }, h('span', {}, h('span', { class: 'mono' }, text(r.model)), r.stream ? h('span', { class: 'cell-sub' }, ' \u00b7 stream') : null)),
        h('td', { 'data-label': 'Status' }, statusPill(r)),
        h('td', { class: 'num', 'data-label': 'Tokens in / out' }, `${integer(r.prompt_tokens)} / ${integer(r.completion_tokens)}`),
        h('td', { class: 'num', 'data-label': 'Cost' }, usd(r.cost_usd)),
        h('td', { class: 'num', 'data-label': 'Latency' }, ms(r.latency_ms)),
        h('td', { class: 'num', 'data-label': 'TTFT' }, ms(r.ttft_ms)),
        h('td', { class: 'mono cell-sub truncate', title: r.request_id ?? '', 'data-label': 'Request id' }, text(r.request_id))))));
    clear(body).append(h('div', { class: 'table-wrap' }, table));
  }

  function schedule() {
    clearInterval(timer);
    if (!settings.paused) timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  refresh();
  schedule();
  // The router calls this when the user leaves the page.
  return () => clearInterval(timer);
}

function statusPill(row) {
  const status = num(row.status);
  const outcome = row.outcome ? String(row.outcome) : null;
  const failed = (status !== null && status >= 400) || (outcome && !['success', 'ok', 'completed'].includes(outcome));
  const label = [status ?? null, outcome && outcome !== 'success' ? outcome.replaceAll('_', ' ') : null].filter((x) => x !== null).join(' \u00b7 ') || '\u2013';
  const tone = status !== null && status >= 500 ? 'bad' : failed ? 'warn' : status !== null ? 'ok' : '';
  return pill(label, tone);
}
