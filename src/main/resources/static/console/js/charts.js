// Charts through the vendored uPlot: time series with labelled axes and units, and sparklines.
import { h } from './dom.js';

export const COLORS = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];
const AXIS = { stroke: '#667085', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6eb', width: 1 } };

const live = new Set();
const observer = typeof ResizeObserver === 'function'
  ? new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = entry.target.uplot;
      if (chart) chart.setSize({ width: Math.max(200, Math.floor(entry.contentRect.width)), height: chart.height });
    }
  })
  : null;

/** Destroys every chart of the previous page. */
export function disposeCharts() {
  for (const chart of live) {
    observer?.unobserve(chart.root.parentElement);
    chart.destroy();
  }
  live.clear();
}

/**
 * A time chart. times: epoch seconds; series: [{label, values, color, bars, format}];
 * unit: the y axis label, e.g. "requests / hour" or "ms".
 */
export function timeChart(container, { times, series, unit, format, step, height = 240 }) {
  // Half a bucket of room on each side, so the first and last bars are drawn whole.
  const pad = (step ?? 0) / 2;
  const opts = {
    width: Math.max(200, container.clientWidth || 600),
    height,
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    legend: { live: true },
    scales: { x: { time: true, range: (u, min, max) => [min - pad, max + pad] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { ...AXIS, label: 'time (local)', labelSize: 18, labelFont: '600 11px system-ui', font: '11px system-ui' },
      {
        ...AXIS,
        label: unit,
        labelSize: 18,
        labelFont: '600 11px system-ui',
        font: '11px system-ui',
        size: 62,
        values: (u, splits) => splits.map((v) => format(v, true)),
      },
    ],
    series: [
      { value: (u, v) => (v == null ? '\u2013' : new Date(v * 1000).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })) },
      ...series.map((s, i) => {
        const color = s.color ?? COLORS[i % COLORS.length];
        return {
          label: s.label,
          stroke: color,
          width: s.bars ? 0 : 2,
          fill: s.bars ? color : `${color}14`,
          spanGaps: false,
          points: { show: !s.bars && times.length < 40, size: 4 },
          paths: s.bars && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.7, 36], gap: 2 }) : undefined,
          value: (u, v) => (v == null ? '\u2013' : (s.format ?? format)(v)),
        };
      }),
    ],
  };
  // The legend shows the latest bucket instead of dashes until the pointer moves over the chart.
  const latest = (u) => { if (times.length && u.cursor.idx == null) u.setLegend({ idx: times.length - 1 }); };
  opts.hooks = { ready: [latest], setCursor: [latest] };
  const chart = new window.uPlot(opts, [times, ...series.map((s) => s.values)], container);
  container.uplot = chart;
  live.add(chart);
  observer?.observe(container);
  return chart;
}

/** A sparkline: no axes, no legend, just the shape of the series. */
export function sparkline(values, color = COLORS[0]) {
  const el = h('div', { class: 'spark', 'aria-hidden': 'true' });
  if (!values.length || !window.uPlot) return el;
  const xs = values.map((_, i) => i);
  const chart = new window.uPlot({
    width: 120,
    height: 32,
    pxAlign: false,
    cursor: { show: false },
    legend: { show: false },
    select: { show: false },
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max : 1] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, fill: `${color}22`, width: 1.5, points: { show: false } }],
  }, [xs, values], el);
  live.add(chart);
  return el;
}
