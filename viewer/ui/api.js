// api.js - every request the UI makes to the viewer (API.md is the contract).
//
// When `otelc view --token` is set, each request carries the token: the page
// receives it once in its URL (#token=... or ?token=...), keeps it in
// sessionStorage (gone with the tab) and strips it from the address bar so a
// copied link never leaks it. EventSource cannot send headers, so /api/live
// alone takes it as ?access_token=.

const TOKEN_KEY = 'otelc-view-token';
let memoryToken = null; // when sessionStorage is unavailable

function storeToken(token) {
  memoryToken = token;
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* memory only */ }
}

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || memoryToken; } catch { return memoryToken; }
}

// Takes a token out of the page URL, if there is one, and stores it.
export function captureToken() {
  const url = new URL(location.href);
  const fromQuery = url.searchParams.get('token');
  const hashMatch = /^#token=([^&]*)/.exec(url.hash);
  if (fromQuery === null && !hashMatch) return;
  storeToken(fromQuery !== null ? fromQuery : decodeURIComponent(hashMatch[1]));
  url.searchParams.delete('token');
  if (hashMatch) url.hash = '#/search';
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The message of any of the contract's error bodies: Jaeger's envelope
// ({errors: [{msg}]}), Tempo's ({error: "..."}), OTLP's ({error: {message}}).
function errorMessage(body, status) {
  if (status === 401) return 'This viewer needs its token: open the link `otelc view` printed (it ends in #token=...).';
  if (body && Array.isArray(body.errors) && body.errors.length) return String(body.errors[0].msg);
  if (body && typeof body.error === 'string') return body.error;
  if (body && body.error && body.error.message) return String(body.error.message);
  return `HTTP ${status}`;
}

// Builds "path?k=v&..." leaving out empty values.
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

// GET path with params; resolves to the parsed JSON body, rejects with an
// ApiError (status 0 when the server could not be reached). signal: an AbortSignal.
export async function apiGet(path, params, signal) {
  const headers = {Accept: 'application/json'};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let response;
  try {
    response = await fetch(apiUrl(path, params), {headers, signal, credentials: 'omit'});
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'The viewer is not reachable: is `otelc view` still running?');
  }
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: reported below */ }
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, response.status));
  if (body === null) throw new ApiError(response.status, 'The viewer answered with something that is not JSON.');
  return body;
}

// The URL of /api/live for an EventSource (which cannot send headers).
export function liveUrl(query) {
  const t = token();
  return apiUrl('/api/live', {q: query, access_token: t || undefined});
}

// Jaeger-shaped envelopes put the payload in `data`.
export const jaegerData = (body) => (body && Array.isArray(body.data) ? body.data : []);

// /api/services, and /api/status, shared by the pages that show them and
// fetched again once older than a few seconds.
const CACHE_MS = 5000;
const cache = new Map();

function cached(key, load) {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
  const promise = load();
  cache.set(key, {at: Date.now(), promise});
  promise.catch(() => cache.delete(key));
  return promise;
}

export const loadServices = () => cached('services', () => apiGet('/api/services').then(jaegerData));
export const loadStatus = () => cached('status', () => apiGet('/api/status'));
export const loadOperations = (service) =>
  cached(`operations:${service}`, () => apiGet(`/api/services/${encodeURIComponent(service)}/operations`).then(jaegerData));
