// Sortable tables: click a header to sort, again to reverse. Missing values sort last.
import { h, clear } from './dom.js';

/**
 * columns: [{key, label, num, value(row) for sorting, render(row) -> node|string}]
 */
export function sortableTable({ id, columns, rows, sort, onSort, rowAttrs }) {
  const sorted = [...rows];
  const column = columns.find((c) => c.key === sort.key);
  if (column) {
    const value = column.value ?? ((row) => row[column.key]);
    sorted.sort((a, b) => compare(value(a), value(b), sort.dir));
  }
  const head = h('tr', {}, columns.map((c) => {
    if (c.sortable === false) return h('th', { class: c.num ? 'num' : '' }, c.label);
    const state = c.key === sort.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
    return h('th', { class: `sortable ${c.num ? 'num' : ''}`, 'aria-sort': state, dataset: { key: c.key } },
      h('button', {
        class: 'sort',
        type: 'button',
        onclick: () => onSort({ key: c.key, dir: c.key === sort.key && sort.dir === 'desc' ? 'asc' : 'desc' }),
      }, c.label));
  }));
  const body = h('tbody', {}, sorted.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
    columns.map((c) => h('td', { class: c.num ? 'num' : c.wrap ? 'wrap' : '', 'data-label': c.label }, c.render ? c.render(row) : row[c.key])))));
  // On a phone the header row is hidden (rows become cards), so sorting moves to a select.
  const choices = columns.filter((c) => c.sortable !== false);
  const select = h('select', { 'aria-label': 'Sort by' }, choices.flatMap((c) => ['desc', 'asc'].map((dir) => h('option', {
    value: `${c.key}:${dir}`,
    selected: c.key === sort.key && dir === sort.dir,
  }, `${c.label} ${dir === 'desc' ? '\u2193' : '\u2191'}`))));
  select.addEventListener('change', () => {
    const [key, dir] = select.value.split(':');
    onSort({ key, dir });
  });
  return h('div', { class: 'table-wrap' },
    h('label', { class: 'stack-sort muted' }, 'Sort by', select),
    h('table', { id, class: 'stack' }, h('thead', {}, head), body));
}

function compare(a, b, dir) {
  const missingA = a === null || a === undefined || a === '';
  const missingB = b === null || b === undefined || b === '';
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return dir === 'asc' ? order : -order;
}

export function replace(el, node) {
  clear(el).append(node);
}
