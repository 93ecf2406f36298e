// Number and date formatting. Every formatter turns a missing or non-numeric value into a dash.
export const DASH = '\u2013';

export function num(value) {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function integer(value) {
  const n = num(value);
  return n === null ? DASH : Math.round(n).toLocaleString('en-US');
}

export function compact(value) {
  const n = num(value);
  if (n === null) return DASH;
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${trim(n / 1e9)}B`;
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  return Math.round(n).toLocaleString('en-US');
}

function trim(n) {
  return n.toFixed(n >= 100 ? 0 : 1).replace(/\.0$/, '');
}

export function usd(value) {
  const n = num(value);
  if (n === null) return DASH;
  if (n === 0) return '$0.00';
  const abs = Math.abs(n);
  // Small amounts keep three significant digits: $0.000412 is not $0.00.
  const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : Math.min(8, 2 - Math.floor(Math.log10(abs)));
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

export function ms(value) {
  const n = num(value);
  if (n === null) return DASH;
  if (n >= 10000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  return `${Math.round(n)} ms`;
}

export function percent(value) {
  const n = num(value);
  if (n === null) return DASH;
  if (n === 0) return '0%';
  return `${(n * 100).toFixed(n < 0.01 ? 2 : 1)}%`;
}

export function ratio(part, whole) {
  const p = num(part);
  const w = num(whole);
  return p === null || !w ? null : p / w;
}

export function parseTime(value) {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  let text = String(value).trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00Z';
  text = text.replace(' ', 'T');
  if (/T\d{2}(:\d{2}){0,2}(\.\d+)?$/.test(text)) text += 'Z';
  if (/T\d{2}Z$/.test(text)) text = text.replace(/Z$/, ':00Z');
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function dateTime(value) {
  const date = parseTime(value);
  return date ? date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : DASH;
}

export function day(value) {
  const date = parseTime(value);
  return date ? date.toLocaleDateString(undefined, { dateStyle: 'medium' }) : DASH;
}

export function clock(value) {
  const date = parseTime(value);
  return date ? date.toLocaleTimeString(undefined, { hour12: false }) : DASH;
}

export function relative(value) {
  const date = parseTime(value);
  if (!date) return DASH;
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text = s < 45 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function text(value) {
  return value === null || value === undefined || value === '' ? DASH : String(value);
}
