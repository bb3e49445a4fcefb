import assert from "node:assert/strict";
import { refusesData } from "../../src/db/results.ts";

Deno.test("refusesData() tells a row PostgreSQL refuses from an outage, a missing partition or a bug", () => {
  const refused = [
    { code: "22P02" }, // invalid text representation
    { code: "22003" }, // numeric value out of range
    { code: "22021" }, // a byte sequence the encoding refuses
    { code: "23514", constraint_name: "checks_check", routine: "ExecConstraints" },
    { code: "23502", constraint_name: "x" }, // not null
    { code: "21000" }, // cardinality violation
    { code: "54000" }, // index row too large
  ];
  const retried = [
    { code: "23514", routine: "ExecFindPartition" }, // a day without a partition: created
    { code: "23514" }, // the same, from a server that names no routine
    { code: "40001" }, // serialization failure
    { code: "40P01" }, // deadlock
    { code: "57P01" }, // shutting down
    { code: "57014" }, // statement timeout
    { code: "53300" }, // too many connections
    { code: "08006" }, // connection failure
    { code: "42P01" }, // undefined table: not migrated, a bug or an operator's doing
    { code: "CONNECTION_CLOSED" },
    { code: "ECONNREFUSED" },
    new TypeError("a bug"),
    null,
  ];
  for (const error of refused) assert.equal(refusesData(error), true, JSON.stringify(error));
  for (const error of retried) assert.equal(refusesData(error), false, JSON.stringify(error));
});
