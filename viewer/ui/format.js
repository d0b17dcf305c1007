// format.js - durations, times and counts as people read them.

const NS_PER = {ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9};

// 1234567 ns -> "1.23ms"; three significant digits, the largest unit <= value.
export function formatDurationNs(ns) {
  if (!Number.isFinite(ns)) return '–';
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${round3(ns)}ns`;
  if (abs < 1e6) return `${round3(ns / 1e3)}µs`;
  if (abs < 1e9) return `${round3(ns / 1e6)}ms`;
  if (abs < 60e9) return `${round3(ns / 1e9)}s`;
  if (abs < 3600e9) return `${Math.floor(abs / 60e9)}m${pad2(Math.floor((abs % 60e9) / 1e9))}s`;
  return `${Math.floor(abs / 3600e9)}h${pad2(Math.floor((abs % 3600e9) / 60e9))}m`;
}

export const formatDurationUs = (us) => formatDurationNs(us * 1e3);
export const formatDurationMs = (ms) => formatDurationNs(ms * 1e6);

function round3(x) {
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return Number(x.toFixed(digits)).toString();
}

const pad2 = (n) => String(n).padStart(2, '0');
const pad3 = (n) => String(n).padStart(3, '0');

// A Go/TraceQL duration ("1.5s", "100ms", "250us", "250µs", "2m") -> ns, or null.
export function parseDuration(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*$/.exec(text);
  if (!m) return null;
  const unit = m[2] === 'µs' ? 'us' : m[2];
  return Number(m[1]) * NS_PER[unit];
}

// A Date -> "14:03:22.123", with the date in front unless it is today.
export function formatTime(date, withMillis = true) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  let text = `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
  if (withMillis) text += `.${pad3(date.getMilliseconds())}`;
  if (!sameDay) text = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${text}`;
  return text;
}

// A Date -> "3 minutes ago" (or "in 2 minutes" when a clock is ahead).
export function formatAgo(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 60 ? [abs, 'second'] : abs < 3600 ? [Math.round(abs / 60), 'minute']
    : abs < 86400 ? [Math.round(abs / 3600), 'hour'] : [Math.round(abs / 86400), 'day'];
  const phrase = `${value} ${unit}${value === 1 ? '' : 's'}`;
  return seconds >= 0 ? `${phrase} ago` : `in ${phrase}`;
}

export function formatCount(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

export function formatPercent(ratio) {
  if (!Number.isFinite(ratio)) return '–';
  const pct = ratio * 100;
  if (pct === 0) return '0%';
  if (pct < 0.1) return '<0.1%';
  return `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

// Time ranges the pages offer, as Jaeger's `lookback` values.
export const LOOKBACKS = [
  ['5m', 'Last 5 minutes', 5 * 60],
  ['15m', 'Last 15 minutes', 15 * 60],
  ['1h', 'Last hour', 3600],
  ['3h', 'Last 3 hours', 3 * 3600],
  ['6h', 'Last 6 hours', 6 * 3600],
  ['12h', 'Last 12 hours', 12 * 3600],
  ['1d', 'Last 24 hours', 86400],
  ['2d', 'Last 2 days', 2 * 86400],
  ['7d', 'Last 7 days', 7 * 86400],
];

// A lookback value -> {startMs, endMs} ending now (an unknown one means the last hour).
export function lookbackRange(lookback) {
  const entry = LOOKBACKS.find(([value]) => value === lookback) || LOOKBACKS[2];
  const endMs = Date.now();
  return {startMs: endMs - entry[2] * 1000, endMs};
}
