// The admin API client. The admin key lives in this tab's sessionStorage only and travels as a
// bearer header; never in a URL (it would land in logs and history) and never in a cookie.
const STORAGE_KEY = 'switchboard.adminKey';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onUnauthorized = () => {};

export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export function adminKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeAdminKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetAdminKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

export async function request(method, path, body, key = adminKey()) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${key ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, 'Cannot reach the gateway. Is it running?');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = data?.error?.message ?? explain(response.status);
    const error = new ApiError(response.status, message);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return data;
}

function explain(status) {
  switch (status) {
    case 401: return 'The admin key was refused.';
    case 403: return 'This key may not use the admin API.';
    case 404: return 'Not found. Is the admin API enabled (GATEWAY_ADMIN_KEY)?';
    case 429: return 'Too many requests; try again in a moment.';
    default: return status >= 500 ? `The gateway failed (HTTP ${status}).` : `Request failed (HTTP ${status}).`;
  }
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
export const patch = (path, body) => request('PATCH', path, body);
export const remove = (path) => request('DELETE', path);

/** The rows of a list answer: {"object":"list","data":[...]} or a plain array. */
export function rows(answer) {
  if (Array.isArray(answer)) return answer;
  if (answer && Array.isArray(answer.data)) return answer.data;
  return [];
}

/** Keys per request when the console reads the whole key list (the admin API allows up to 500). */
const KEY_PAGE = 200;

/**
 * Every key, read page by page up to `max`: `{ keys, total }`. The console filters and sorts keys in
 * the browser, so it needs all of them, not the admin API's first page. A key created while the pages
 * are read may shift one into the next: each key is kept once, by id.
 */
export async function allKeys(max = 10000) {
  const byId = new Map();
  let total = 0;
  for (let offset = 0; offset < max; offset += KEY_PAGE) {
    const answer = await get(`/admin/keys${query({ limit: KEY_PAGE, offset })}`);
    const page = rows(answer);
    page.forEach((key) => byId.set(key.id, key));
    total = Number(answer?.total ?? byId.size);
    if (page.length < KEY_PAGE || offset + KEY_PAGE >= total) break;
  }
  return { keys: [...byId.values()], total: Math.max(total, byId.size) };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
