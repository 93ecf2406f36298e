// By key and by model: one sortable row per key or model over the chosen range, with a sparkline
// of its requests per hour or day.
import { allKeys, get, rows, query } from '../api.js';
import { h, clear, errorBox, empty, loading } from '../dom.js';
import { num, integer, compact, usd, ms, percent, ratio, text } from '../format.js';
import { sparkline, disposeCharts } from '../charts.js';
import { currentRange, rangeControls, rangeLabel, rangeParams, toBuckets } from '../range.js';
import { sortableTable } from '../table.js';

const SPARKLINES = 25;
const sorts = { key: { key: 'cost', dir: 'desc' }, model: { key: 'cost', dir: 'desc' } };

export function byKey(view) {
  breakdown(view, {
    kind: 'key',
    title: 'By key',
    intro: 'Who sent what: requests, tokens, spend and speed per key',
    filter: 'key_id',
  });
}

export function byModel(view) {
  breakdown(view, {
    kind: 'model',
    title: 'By model',
    intro: 'What was used: requests, tokens, spend and speed per model',
    filter: 'model',
  });
}

function breakdown(view, { kind, title, intro, filter }) {
  const body = h('div', { class: 'panel', id: 'breakdown' });
  const subtitle = h('p', { class: 'muted' });
  view.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, title), subtitle),
      rangeControls(() => load())),
    body);

  let state = null;

  async function load() {
    disposeCharts();
    const range = currentRange();
    subtitle.textContent = `${intro}, ${rangeLabel()}.`;
    clear(body).append(loading());
    try {
      const [usage, keys] = await Promise.all([
        get(`/admin/usage${query({ ...rangeParams(), group_by: kind })}`),
        kind === 'key' ? allKeys().then((answer) => answer.keys).catch(() => null) : Promise.resolve(null),
      ]);
      const names = new Map(rows(keys).map((k) => [k.id, k]));
      state = { range, rows: rows(usage).map((row) => decorate(row, names)), trends: new Map() };
    } catch (e) {
      clear(body).append(errorBox(`Could not load usage: ${e.message}`, load));
      return;
    }
    render();
    loadTrends(state);
  }

  function decorate(row, names) {
    const key = kind === 'key' ? names.get(row.group) ?? names.get(row.key_id) : null;
    const requests = num(row.requests);
    return {
      ...row,
      id: row.group ?? row.key_id ?? row.model ?? '',
      label: kind === 'key' ? row.key_name ?? key?.name ?? row.group : row.group ?? row.model,
      sub: kind === 'key' ? key?.prefix ?? row.group : null,
      total: num(row.total_tokens) ?? ((num(row.prompt_tokens) ?? 0) + (num(row.completion_tokens) ?? 0)),
      cost: num(row.cost_usd),
      requests,
      errorRate: requests ? ratio(row.errors ?? 0, requests) : null,
    };
  }

  function render() {
    if (!state.rows.length) {
      clear(body).append(empty(`No usage by ${kind} in this range`,
        h('p', {}, 'Requests appear here once traffic goes through the gateway.')));
      return;
    }
    const columns = [
      {
        key: 'label',
        label: kind === 'key' ? 'Key' : 'Model',
        render: (r) => h('div', {}, h('div', { class: 'cell-main' }, text(r.label)),
          r.sub && r.sub !== r.label ? h('div', { class: 'cell-sub mono' }, r.sub) : null),
      },
      { key: 'requests', label: 'Requests', num: true, render: (r) => integer(r.requests) },
      { key: 'total', label: 'Tokens', num: true, render: (r) => compact(r.total) },
      { key: 'prompt_tokens', label: 'Prompt', num: true, value: (r) => num(r.prompt_tokens), render: (r) => compact(r.prompt_tokens) },
      { key: 'completion_tokens', label: 'Completion', num: true, value: (r) => num(r.completion_tokens), render: (r) => compact(r.completion_tokens) },
      { key: 'cost', label: 'Cost', num: true, render: (r) => usd(r.cost) },
      { key: 'errorRate', label: 'Errors', num: true, render: (r) => (r.errorRate === null ? '\u2013' : `${percent(r.errorRate)} (${integer(r.errors)})`) },
      { key: 'p50_latency_ms', label: 'p50', num: true, value: (r) => num(r.p50_latency_ms), render: (r) => ms(r.p50_latency_ms) },
      { key: 'p95_latency_ms', label: 'p95', num: true, value: (r) => num(r.p95_latency_ms), render: (r) => ms(r.p95_latency_ms) },
      { key: 'p95_ttft_ms', label: 'TTFT p95', num: true, value: (r) => num(r.p95_ttft_ms), render: (r) => ms(r.p95_ttft_ms) },
      {
        key: 'trend',
        label: `Requests / ${state.range.step}`,
        sortable: false,
        render: (r) => state.trends.get(r.id) ?? h('div', { class: 'spark' }),
      },
    ];
    disposeCharts();
    for (const [id, values] of state.values ?? []) state.trends.set(id, sparkline(values));
    clear(body).append(sortableTable({
      id: 'breakdown-table',
      columns,
      rows: state.rows,
      sort: sorts[kind],
      rowAttrs: (r) => ({ dataset: { group: r.id } }),
      onSort: (sort) => { sorts[kind] = sort; render(); },
    }));
  }

  async function loadTrends(current) {
    // A sparkline needs one usage query per row: only the top rows by cost get one.
    const top = [...current.rows].sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0) || (b.requests ?? 0) - (a.requests ?? 0)).slice(0, SPARKLINES);
    const values = new Map();
    await Promise.all(top.map(async (row) => {
      try {
        const answer = await get(`/admin/usage${query({ ...rangeParams(), group_by: current.range.step, [filter]: row.id })}`);
        const buckets = toBuckets(rows(answer), current.range);
        values.set(row.id, buckets.times.map((t) => num(buckets.at(t)?.requests) ?? 0));
      } catch (e) {
        // A missing sparkline is not worth an error message; the row's numbers are still there.
      }
    }));
    if (state !== current) return;
    current.values = values;
    render();
  }

  load();
}
