// junit_assert.js - checks the trace `otelc junit` exported through the file
// exporter (OTLP/JSON lines), for tests/integration/cli_junit.sh.
//
//   node junit_assert.js fixtures FILE.jsonl START_NS
//   node junit_assert.js traceparent FILE.jsonl TRACE_ID SPAN_ID
//   node junit_assert.js totals JSON_LINE
//
// Exits non-zero with a message naming the first property that does not hold.
'use strict';
const fs = require('fs');
const assert = require('assert');
const {attrs} = require('./otlp_json_assert.js');

function loadSpans(path) {
  const spans = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const rs of JSON.parse(line).resourceSpans || [])
      for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) spans.push(s);
  }
  return spans;
}

function index(spans) {
  for (const s of spans) {
    s.a = attrs(s.attributes);
    s.ev = (s.events || []).map((e) => ({name: e.name, time: BigInt(e.timeUnixNano), a: attrs(e.attributes)}));
    s.start = BigInt(s.startTimeUnixNano);
    s.end = BigInt(s.endTimeUnixNano);
    s.error = s.status && s.status.code === 2;
  }
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const one = (pred, what) => {
    const found = spans.filter(pred);
    assert.strictEqual(found.length, 1, `expected exactly one span ${what}, found ${found.length}`);
    return found[0];
  };
  return {byId, one};
}

const caseNamed = (name) => (s) => s.a['test.case.name'] === name;

function checkRoot(spans, root) {
  assert.strictEqual(root.a['otelc.junit.tests'], 28);
  assert.strictEqual(root.a['otelc.junit.passed'], 12);
  assert.strictEqual(root.a['otelc.junit.failed'], 7);
  assert.strictEqual(root.a['otelc.junit.errors'], 2);
  assert.strictEqual(root.a['otelc.junit.skipped'], 7);
  assert.strictEqual(root.a['otelc.junit.reports'].length, 7);
  assert.ok(root.error, 'the root span is ERROR when tests failed');
  for (const s of spans) {
    assert.strictEqual(s.traceId, root.traceId, `${s.name} is in the run's trace`);
    if (s !== root) {
      assert.ok(s.start >= root.start && s.end <= root.end, `${s.name} lies within the root span`);
    }
  }
}

function checkParentage(spans, byId, root) {
  const suites = spans.filter((s) => 'test.suite.name' in s.a);
  const cases = spans.filter((s) => 'test.case.name' in s.a);
  assert.strictEqual(suites.length, 11, 'a span per <testsuite>, nested ones included');
  assert.strictEqual(cases.length, 28, 'a span per <testcase>');
  assert.strictEqual(spans.length, 1 + suites.length + cases.length);
  for (const c of cases) {
    const parent = byId.get(c.parentSpanId);
    assert.ok(parent && 'test.suite.name' in parent.a, `case ${c.name} is a child of a suite`);
    assert.ok(c.start >= parent.start && c.end <= parent.end, `case ${c.name} within its suite`);
  }
  for (const s of suites) {
    const parent = byId.get(s.parentSpanId);
    assert.ok(parent, `suite ${s.name} has its parent in the trace`);
    const nested = s.a['test.suite.name'].startsWith('App\\Tests\\');
    assert.strictEqual(parent === root, !nested, `suite ${s.name} parent`);
    if (nested) assert.strictEqual(parent.a['test.suite.name'], 'unit');
  }
}

function checkSurefire(one, startNs) {
  const suite = one((s) => s.a['test.suite.name'] === 'com.example.cart.CartServiceTest', 'surefire suite');
  assert.strictEqual(suite.a['test.suite.run.status'], 'failure');
  assert.deepStrictEqual(
      [suite.a['otelc.junit.tests'], suite.a['otelc.junit.passed'], suite.a['otelc.junit.failed'],
        suite.a['otelc.junit.errors'], suite.a['otelc.junit.skipped']],
      [5, 2, 1, 1, 1]);
  assert.ok(suite.error);
  // No timestamp in Surefire reports: the suite is placed to end by "now".
  assert.strictEqual(suite.end - suite.start, 412000000n);
  assert.ok(suite.start >= startNs - 10n ** 9n, 'an untimed suite ends around now');

  const failed = one(caseNamed('com.example.cart.CartServiceTest.appliesDiscount'), 'appliesDiscount');
  assert.strictEqual(failed.name, 'com.example.cart.CartServiceTest.appliesDiscount');
  assert.strictEqual(failed.a['test.case.result.status'], 'fail');
  assert.strictEqual(failed.a['code.function.name'], 'com.example.cart.CartServiceTest.appliesDiscount');
  assert.strictEqual(failed.a['error.type'], 'org.opentest4j.AssertionFailedError');
  assert.ok(failed.error);
  assert.strictEqual(failed.status.message, 'expected: <90.00> but was: <100.00>');
  assert.strictEqual(failed.end - failed.start, 34000000n);
  assert.strictEqual(failed.ev.length, 1);
  const ex = failed.ev[0];
  assert.strictEqual(ex.name, 'exception');
  assert.strictEqual(ex.a['exception.type'], 'org.opentest4j.AssertionFailedError');
  assert.strictEqual(ex.a['exception.message'], 'expected: <90.00> but was: <100.00>');
  assert.ok(ex.a['exception.stacktrace'].includes('CartServiceTest.java:48'));
  assert.strictEqual(ex.time, failed.end);

  const errored = one(caseNamed('com.example.cart.CartServiceTest.persistsCart'), 'persistsCart');
  assert.strictEqual(errored.a['test.case.result.status'], 'fail');
  assert.strictEqual(errored.a['error.type'], 'java.net.ConnectException');
  assert.strictEqual(errored.ev[0].a['otelc.junit.element'], 'error');

  const flaky = one(caseNamed('com.example.cart.CartServiceTest.fetchesPrices'), 'fetchesPrices');
  assert.strictEqual(flaky.a['test.case.result.status'], 'pass');
  assert.ok(!flaky.error, 'a flaky test that passed is not an error');
  assert.strictEqual(flaky.ev[0].a['otelc.junit.element'], 'flakyFailure');
  assert.ok(flaky.ev[0].a['exception.stacktrace'].startsWith('java.net.SocketTimeoutException'));

  const skipped = one(caseNamed('com.example.cart.CartServiceTest.exportsCsv'), 'exportsCsv');
  assert.strictEqual(skipped.a['test.case.result.status'], 'skipped');
  assert.strictEqual(skipped.a['otelc.junit.skipped.message'], 'CSV export is disabled on CI');
  assert.strictEqual(skipped.ev.length, 0);
  assert.ok(!skipped.error);
}

function checkOthers(one) {
  // pytest xunit1: file and line become code.* attributes.
  const divide = one(caseNamed('tests.test_math.test_divide[2-1]'), 'test_divide');
  assert.strictEqual(divide.a['code.file.path'], 'tests/test_math.py');
  assert.strictEqual(divide.a['code.line.number'], 20);
  // pytest xunit2: timestamp with an offset.
  const login = one(caseNamed('tests.test_api.TestLogin.test_login_ok'), 'test_login_ok');
  assert.strictEqual(login.start, 1715671267412345000n);
  assert.strictEqual(login.end, 1715671267824345000n);
  // jest-junit: no message attribute, the text's first line stands in; no code.* for prose.
  const jest = one(caseNamed('cart reducer removes the last item'), 'jest failure');
  assert.strictEqual(jest.ev[0].a['exception.message'], 'Error: expect(received).toEqual(expected) // deep equality');
  assert.ok(!('exception.type' in jest.ev[0].a));
  assert.ok(!('code.function.name' in jest.a));
  // gotestsum: suite at its RFC 3339 timestamp, cases one after the other.
  const cart = one((s) => s.a['test.suite.name'] === 'github.com/acme/shop/internal/cart', 'go suite');
  assert.strictEqual(cart.start, 1715671802000000000n);
  const sub = one(caseNamed('github.com/acme/shop/internal/cart.TestTotal/with_discount'), 'go subtest');
  assert.strictEqual(sub.start, 1715671802000000000n);
  assert.strictEqual(sub.end, 1715671802010000000n);
  const total = one(caseNamed('github.com/acme/shop/internal/cart.TestTotal'), 'go test');
  assert.strictEqual(total.start, sub.end);
  // CTest: a local timestamp (TZ=UTC in the test), status="disabled" means skipped.
  const ctest = one((s) => s.a['test.suite.name'] === 'Linux-c++', 'ctest suite');
  assert.strictEqual(ctest.start, 1715679715000000000n);
  assert.strictEqual(ctest.end - ctest.start, 2000000000n);
  const disabled = one(caseNamed('legacy_io'), 'disabled ctest');
  assert.strictEqual(disabled.a['test.case.result.status'], 'skipped');
  assert.ok(!('code.function.name' in disabled.a), 'a CTest name is not a function');
  // A suite whose cases were all skipped or passed succeeds.
  const price = one((s) => s.a['test.suite.name'] === 'github.com/acme/shop/internal/price', 'price');
  assert.strictEqual(price.a['test.suite.run.status'], 'success');
  assert.ok(!price.error);
}

function fixtures(path, startNs) {
  const spans = loadSpans(path);
  const {byId, one} = index(spans);
  const root = one((s) => s.name === 'otelc junit', 'named "otelc junit"');
  assert.ok(!root.parentSpanId, 'without TRACEPARENT the run is a new trace');
  checkRoot(spans, root);
  checkParentage(spans, byId, root);
  checkSurefire(one, BigInt(startNs));
  checkOthers(one);
}

function traceparent(path, traceId, spanId) {
  const spans = loadSpans(path);
  const {one} = index(spans);
  const root = one((s) => s.name === 'otelc junit', 'named "otelc junit"');
  assert.strictEqual(root.traceId, traceId);
  assert.strictEqual(root.parentSpanId, spanId);
  for (const s of spans) assert.strictEqual(s.traceId, traceId);
  assert.ok(spans.length > 1);
}

function totals(line) {
  const t = JSON.parse(line);
  assert.deepStrictEqual(
      [t.reports, t.suites, t.tests, t.passed, t.failed, t.errors, t.skipped, t.status],
      [2, 3, 9, 3, 3, 0, 3, 'failure']);
  assert.match(t.trace_id, /^[0-9a-f]{32}$/);
}

const [mode, ...args] = process.argv.slice(2);
try {
  if (mode === 'fixtures') fixtures(args[0], args[1]);
  else if (mode === 'traceparent') traceparent(args[0], args[1], args[2]);
  else if (mode === 'totals') totals(args[0]);
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  console.error(`junit_assert ${mode}: ${e.message}`);
  process.exit(1);
}
