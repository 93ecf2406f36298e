// The time range shared by the overview and the breakdown pages, and the buckets it is cut into.
import { h } from './dom.js';
import { parseTime } from './format.js';

const PRESETS = [
  { id: '6h', label: '6 hours', hours: 6 },
  { id: '24h', label: '24 hours', hours: 24 },
  { id: '7d', label: '7 days', hours: 24 * 7 },
  { id: '30d', label: '30 days', hours: 24 * 30 },
  { id: '90d', label: '90 days', hours: 24 * 90 },
];

const state = { preset: '24h', granularity: 'auto', from: '', to: '' };

const HOUR = 3600;
const DAY = 86400;

/** The current range: {from: Date, to: Date, step: 'hour'|'day', seconds}. */
export function currentRange() {
  let from;
  let to;
  if (state.preset === 'custom' && state.from && state.to) {
    from = new Date(`${state.from}T00:00:00`);
    // The next local midnight: the reports' `to` is exclusive, so the last day is whole.
    to = new Date(`${state.to}T00:00:00`);
    to.setDate(to.getDate() + 1);
  } else {
    const preset = PRESETS.find((p) => p.id === state.preset) ?? PRESETS[1];
    to = new Date();
    from = new Date(to.getTime() - preset.hours * HOUR * 1000);
  }
  const hours = (to - from) / 3600000;
  const step = state.granularity === 'auto' ? (hours <= 72 ? 'hour' : 'day') : state.granularity;
  return { from, to, step, seconds: step === 'hour' ? HOUR : DAY };
}

export function rangeParams() {
  const range = currentRange();
  return { from: range.from.toISOString(), to: range.to.toISOString() };
}

export function rangeLabel() {
  const range = currentRange();
  const preset = PRESETS.find((p) => p.id === state.preset);
  const lastDay = new Date(range.to.getTime() - 1);
  const span = preset ? `last ${preset.label}` : `${range.from.toLocaleDateString()} \u2013 ${lastDay.toLocaleDateString()}`;
  return `${span}, by ${range.step}`;
}

/** YYYY-MM-DD of the local calendar day, as a date input's value. */
function localDate(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The range controls; onChange re-renders the page. */
export function rangeControls(onChange) {
  const preset = h('select', { id: 'range-preset', 'aria-label': 'Time range' },
    PRESETS.map((p) => h('option', { value: p.id, selected: p.id === state.preset }, `Last ${p.label}`)),
    h('option', { value: 'custom', selected: state.preset === 'custom' }, 'Custom dates\u2026'));
  // The browser's own date: toISOString() would give the UTC date, a day off in the evening west
  // of Greenwich and in the morning east of it.
  const today = localDate(new Date());
  const from = h('input', { type: 'date', id: 'range-from', 'aria-label': 'From', value: state.from || today, max: today });
  const to = h('input', { type: 'date', id: 'range-to', 'aria-label': 'To', value: state.to || today, max: today });
  const custom = h('span', { class: 'controls', hidden: state.preset !== 'custom' }, from, to);
  const buttons = ['auto', 'hour', 'day'].map((g) => h('button', {
    type: 'button',
    'aria-pressed': String(state.granularity === g),
    dataset: { granularity: g },
    onclick: () => { state.granularity = g; onChange(); },
  }, g === 'auto' ? 'Auto' : g === 'hour' ? 'Hourly' : 'Daily'));
  preset.addEventListener('change', () => {
    state.preset = preset.value;
    if (state.preset === 'custom') {
      state.from = from.value;
      state.to = to.value;
    }
    onChange();
  });
  const onDates = () => {
    if (from.value && to.value && from.value <= to.value) {
      state.from = from.value;
      state.to = to.value;
      onChange();
    }
  };
  from.addEventListener('change', onDates);
  to.addEventListener('change', onDates);
  return h('div', { class: 'controls' }, preset, custom, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Granularity' }, buttons));
}

/**
 * Puts usage rows grouped by hour or day onto a complete axis of buckets, zero where nothing
 * happened, so gaps show as zero traffic rather than as a line drawn across them.
 */
export function toBuckets(rows, range) {
  const step = range.seconds;
  const start = Math.floor(range.from.getTime() / 1000 / step) * step;
  const end = Math.floor(range.to.getTime() / 1000 / step) * step;
  const times = [];
  for (let t = start; t <= end && times.length < 5000; t += step) times.push(t);
  const byTime = new Map();
  for (const row of rows) {
    const date = parseTime(row.group ?? row.bucket ?? row.time);
    if (!date) continue;
    const t = Math.floor(date.getTime() / 1000 / step) * step;
    byTime.set(t, row);
  }
  return { times, at: (t) => byTime.get(t) ?? null };
}
