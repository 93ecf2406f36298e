// Overview: totals over the chosen range and charts per hour or day.
import { get, rows, query } from '../api.js';
import { h, clear, errorBox, empty, loading } from '../dom.js';
import { num, integer, compact, usd, ms, percent, ratio } from '../format.js';
import { timeChart, disposeCharts } from '../charts.js';
import { currentRange, rangeControls, rangeLabel, rangeParams, toBuckets } from '../range.js';

export function overview(view) {
  const body = h('div', { id: 'overview-body' });
  const subtitle = h('p', { class: 'muted', id: 'overview-range' });
  view.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Overview'), subtitle),
      rangeControls(() => load())),
    body);

  async function load() {
    disposeCharts();
    const range = currentRange();
    subtitle.textContent = `Requests, tokens, cost and latency, ${rangeLabel()}.`;
    clear(body).append(loading());
    let data;
    try {
      data = rows(await get(`/admin/usage${query({ ...rangeParams(), group_by: range.step })}`));
    } catch (e) {
      clear(body).append(errorBox(`Could not load usage: ${e.message}`, load));
      return;
    }
    render(data, range);
  }

  function render(data, range) {
    const sum = (field) => data.reduce((acc, row) => acc + (num(row[field]) ?? 0), 0);
    const requests = sum('requests');
    const errors = sum('errors');
    const prompt = sum('prompt_tokens');
    const completion = sum('completion_tokens');
    const total = data.some((r) => num(r.total_tokens) !== null) ? sum('total_tokens') : prompt + completion;
    const cost = sum('cost_usd');
    // Percentiles cannot be added up: the cards show the request-weighted mean of the buckets'
    // medians and the worst bucket's p95, and say so.
    const weighted = (field) => {
      let weight = 0;
      let acc = 0;
      for (const row of data) {
        const v = num(row[field]);
        const w = num(row.requests) ?? 0;
        if (v !== null && w > 0) { acc += v * w; weight += w; }
      }
      return weight ? acc / weight : null;
    };
    const bucket = range.step === 'day' ? 'daily' : 'hourly';
    const worst = (field) => data.reduce((acc, row) => {
      const v = num(row[field]);
      return v === null ? acc : acc === null ? v : Math.max(acc, v);
    }, null);

    clear(body).append(h('div', { class: 'cards', id: 'overview-cards' },
      card('requests', 'Requests', integer(requests), `${integer(errors)} failed`),
      card('tokens', 'Tokens', compact(total), `${compact(prompt)} in \u00b7 ${compact(completion)} out`),
      card('cost', 'Cost', usd(cost), requests ? `${usd(cost / requests)} per request` : 'no requests'),
      card('error-rate', 'Error rate', requests ? percent(ratio(errors, requests)) : '\u2013', `${integer(errors)} of ${integer(requests)}`),
      card('latency', 'Typical latency', ms(weighted('p50_latency_ms')), `mean of ${bucket} p50s \u00b7 worst p95 ${ms(worst('p95_latency_ms'))}`),
      card('ttft', 'Typical first token', ms(weighted('p50_ttft_ms')), `mean of ${bucket} p50s \u00b7 worst p95 ${ms(worst('p95_ttft_ms'))}`)));

    if (requests === 0) {
      body.append(h('div', { class: 'panel' }, empty('No requests in this range yet',
        h('p', {}, 'Create a key on the Keys page, then send a request through the gateway:'),
        h('pre', {}, `curl ${location.origin}/v1/chat/completions \\\n  -H "Authorization: Bearer sk-gw-..." \\\n  -H "Content-Type: application/json" \\\n  -d '{"model":"demo/chat","messages":[{"role":"user","content":"Hello"}]}'`))));
      return;
    }

    const buckets = toBuckets(data, range);
    const series = (field, zero = true) => buckets.times.map((t) => {
      const v = num(buckets.at(t)?.[field]);
      return v === null ? (zero ? 0 : null) : v;
    });
    const per = range.step === 'hour' ? 'hour' : 'day';
    const charts = h('div', { class: 'charts' });
    body.append(charts);
    const panel = (title, note) => {
      const chart = h('div', { class: 'chart' });
      charts.append(h('section', { class: 'panel' },
        h('div', { class: 'chart-head' }, h('h2', {}, title), h('span', { class: 'muted' }, note)), chart));
      return chart;
    };
    const count = (v, axis) => (axis ? compact(v) : integer(v));
    timeChart(panel('Requests', `per ${per}`), {
      times: buckets.times,
      step: range.seconds,
      unit: `requests / ${per}`,
      format: count,
      series: [
        { label: 'requests', values: series('requests'), bars: true, color: '#4f46e5' },
        { label: 'errors', values: series('errors'), bars: true, color: '#ef4444' },
      ],
    });
    timeChart(panel('Tokens', `per ${per}`), {
      times: buckets.times,
      step: range.seconds,
      unit: `tokens / ${per}`,
      format: count,
      series: [
        { label: 'prompt', values: series('prompt_tokens'), color: '#0ea5e9' },
        { label: 'completion', values: series('completion_tokens'), color: '#8b5cf6' },
      ],
    });
    timeChart(panel('Cost', `USD per ${per}`), {
      times: buckets.times,
      step: range.seconds,
      unit: `USD / ${per}`,
      format: (v) => usd(v),
      series: [{ label: 'cost', values: series('cost_usd'), color: '#10b981' }],
    });
    timeChart(panel('Error rate', `failed share of requests per ${per}`), {
      times: buckets.times,
      step: range.seconds,
      unit: '% of requests',
      format: (v) => percent(v),
      series: [{
        label: 'error rate',
        color: '#ef4444',
        values: buckets.times.map((t) => {
          const row = buckets.at(t);
          return row && num(row.requests) ? ratio(row.errors ?? 0, row.requests) : null;
        }),
      }],
    });
    timeChart(panel('Latency', 'whole request, milliseconds'), {
      times: buckets.times,
      step: range.seconds,
      unit: 'ms',
      format: (v, axis) => (axis ? `${Math.round(v)}` : ms(v)),
      series: [
        { label: 'p50', values: series('p50_latency_ms', false), color: '#4f46e5' },
        { label: 'p95', values: series('p95_latency_ms', false), color: '#f59e0b' },
      ],
    });
    timeChart(panel('Time to first token', 'streams, milliseconds'), {
      times: buckets.times,
      step: range.seconds,
      unit: 'ms',
      format: (v, axis) => (axis ? `${Math.round(v)}` : ms(v)),
      series: [
        { label: 'p50', values: series('p50_ttft_ms', false), color: '#0ea5e9' },
        { label: 'p95', values: series('p95_ttft_ms', false), color: '#f59e0b' },
      ],
    });
  }

  load();
}

function card(id, label, value, sub) {
  return h('div', { class: 'card', id: `card-${id}` },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    h('div', { class: 'sub' }, sub));
}
