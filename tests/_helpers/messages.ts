/**
 * Generated messages for the topic (fast-check): valid check results, and mutations of them that
 * break each field in every way the message format forbids, for property tests of the codec and
 * the fuzz test of `monitor consume`.
 *
 * @module
 */
import fc from "fast-check";
import { CHECK_RESULT_VERSION, type CheckResult, ERROR_KINDS } from "../../src/check/result.ts";

const DAY_MS = 86_400_000;

/** Text PostgreSQL can store: any code point but NUL. */
function text(constraints: { minLength?: number; maxLength?: number } = {}) {
  return fc.string({ unit: "binary", maxLength: 40, ...constraints })
    .map((s) => s.replaceAll("\u0000", "\uFFFD"));
}

const milliseconds = fc.option(
  fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 172_800_000, noNaN: true })),
  { nil: null },
);

/**
 * Valid check results, made within `days` days before `nowMs`, on one of `sites` site ids (so
 * many share a Kafka key).
 */
export function validResults(
  nowMs: number,
  options: { days?: number; sites?: readonly string[] } = {},
): fc.Arbitrary<CheckResult> {
  const days = options.days ?? 20;
  const siteId = options.sites === undefined
    ? text({ minLength: 1 })
    : fc.constantFrom(...options.sites);
  return fc.record({
    checkId: fc.uuid({ version: 7 }),
    siteId,
    siteName: text({ minLength: 1 }),
    url: fc.webUrl(),
    checkedAt: fc.integer({ min: nowMs - days * DAY_MS, max: nowMs })
      .map((ms) => new Date(ms).toISOString()),
    timeToHeadersMs: milliseconds,
    responseTimeMs: milliseconds,
    statusCode: fc.option(fc.integer({ min: 100, max: 999 }), { nil: null }),
    pattern: fc.option(text(), { nil: null }),
    matched: fc.boolean(),
    certExpiresAt: fc.option(
      fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z") })
        .filter((d) => !Number.isNaN(d.getTime()))
        .map((d) => d.toISOString()),
      { nil: null },
    ),
    error: fc.option(
      fc.record({ kind: fc.constantFrom(...ERROR_KINDS), message: text({ maxLength: 200 }) }),
      { nil: null },
    ),
    dnsMs: milliseconds,
    connectMs: milliseconds,
    tlsMs: milliseconds,
    firstByteMs: milliseconds,
    transferMs: milliseconds,
    remoteAddress: fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: null }),
    httpVersion: fc.option(fc.constantFrom("1.0", "1.1", "2"), { nil: null }),
    tlsVersion: fc.option(fc.constantFrom("TLSv1.2", "TLSv1.3"), { nil: null }),
    certSubject: fc.option(text(), { nil: null }),
    certIssuer: fc.option(text(), { nil: null }),
    certAltNames: fc.option(fc.array(text(), { maxLength: 5 }), { nil: null }),
    region: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
    checker: text({ minLength: 1, maxLength: 255 }),
  }).map(({ matched, error, ...fields }): CheckResult => {
    const common = {
      version: CHECK_RESULT_VERSION,
      ...fields,
      patternMatched: fields.pattern === null ? null : matched,
    };
    return error === null
      ? { ...common, up: true, error: null }
      : { ...common, up: false, error: { kind: error.kind, message: error.message } };
  });
}

/** JSON nested 1 000 levels deep. */
const DEEP: unknown = Array.from({ length: 1_000 }).reduce<unknown>((inner) => [inner], []);

/** Values that break each field; `undefined` removes it. */
const BROKEN: Record<string, readonly unknown[]> = {
  version: [undefined, null, 0, 2, 3, "1", 1.5],
  checkId: [undefined, null, "", "not-a-uuid", "3f1f8f0e-8c5e-4c1d-9b7a-2f3c4d5e6f70", 42],
  siteId: [undefined, null, "", "a".repeat(513), "a\u0000b", "a\udc00", 7, []],
  siteName: [undefined, null, "", "x\u0000", "x\ud800", {}, DEEP],
  url: [
    undefined,
    null,
    "",
    "not a url",
    "https://a.example/\u0000",
    "https://a.example/\ud800",
    1,
  ],
  checkedAt: [
    undefined,
    null,
    "",
    "2026-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2026-11-25T10:00:00",
    "2026-11-25T10:00:00+01:00",
    "2026-11-25T23:59:59.9999999Z",
    "2026-11-25T10:00:00Z",
    "yesterday",
    1_764_064_800_000,
  ],
  timeToHeadersMs: [undefined, -1, "12", true, {}, 5e-324, 1e-9, 172_800_001],
  responseTimeMs: [undefined, -0.5, "20", false, 2.2e-308, 1e308],
  statusCode: [undefined, 99, 1000, 200.5, "200", true],
  pattern: [undefined, "a\u0000", 5, []],
  patternMatched: [undefined, "yes", 1],
  certExpiresAt: [undefined, "0000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", 5, "soon"],
  dnsMs: [undefined, -1, "3", 5e-324],
  connectMs: [undefined, 1e308, true],
  tlsMs: [undefined, -0.1, {}],
  firstByteMs: [undefined, "1", 172_800_001],
  transferMs: [undefined, 1e-9, []],
  remoteAddress: [undefined, "", "localhost", "300.1.1.1", "::g", 127001, "127.0.0.1\u0000"],
  httpVersion: [undefined, "", "HTTP/1.1", "1.1.1", 1.1],
  tlsVersion: [undefined, "TLS\u0000", "x".repeat(33), 3],
  certSubject: [undefined, "CN=a\u0000", "x".repeat(1_001), 1],
  certIssuer: [undefined, "CN=\ud800", {}, DEEP],
  certAltNames: [
    undefined,
    "DNS:a.example",
    [1],
    ["a\u0000"],
    Array.from({ length: 101 }, (_, i) => `DNS:${i}.example`),
  ],
  region: [undefined, null, "", "-eu", "eu west", "a".repeat(64), "é", 1],
  checker: [undefined, null, "", "x".repeat(256), "h\u0000", 7],
  up: [undefined, null, "true", 1],
  error: [
    undefined,
    "dns",
    { kind: "nope", message: "x" },
    { kind: "dns" },
    { kind: "dns", message: "x", extra: 1 },
    { kind: "dns", message: "a\u0000" },
    { kind: "dns", message: "a\ud83d" },
    { kind: DEEP, message: "x" },
  ],
};

/** A valid result made invalid in one way, as JSON text. */
export function brokenResults(valid: fc.Arbitrary<CheckResult>): fc.Arbitrary<string> {
  const oneField = fc.tuple(
    valid,
    fc.constantFrom(...Object.entries(BROKEN).flatMap(([k, vs]) => vs.map((v) => [k, v] as const))),
  ).map(([result, [key, value]]) => {
    const broken: Record<string, unknown> = { ...result };
    if (value === undefined) delete broken[key];
    else broken[key] = value;
    return JSON.stringify(broken);
  });
  const contradictions = fc.tuple(valid, fc.integer({ min: 0, max: 5 })).map(([result, way]) => {
    const r: Record<string, unknown> = { ...result };
    switch (way) {
      case 0: // up, yet with an error
        return JSON.stringify({ ...r, up: true, error: { kind: "dns", message: "no host" } });
      case 1: // down, without one
        return JSON.stringify({ ...r, up: false, error: null });
      case 2: // a pattern result without a pattern
        return JSON.stringify({ ...r, pattern: null, patternMatched: true });
      case 3: // a key the format does not have
        return JSON.stringify({ ...r, zone: "eu" });
      case 4: // a list of results, not one
        return JSON.stringify([r]);
      default: // the result inside another object
        return JSON.stringify({ result: r });
    }
  });
  return fc.oneof(oneField, contradictions);
}

/** Bytes that are not a check result at all: random bytes, JSON of any shape. */
export const garbage: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }), // (no value at all is a case of its own)
  fc.json().map((json) => new TextEncoder().encode(json)),
  fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify({ version: 1, value }))),
);
