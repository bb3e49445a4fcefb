import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";

const SECRET = "hunter2-s3cr3t";

Deno.test("monitor settings masks DATABASE_URL's password and every password-like parameter", async () => {
  const url = `postgres://avnadmin:${SECRET}@db.example:5432/app?sslmode=verify-full` +
    `&sslcert=client.pem&sslkey=client.key&sslpassword=${SECRET}&application_name=monitor`;
  const run = monitor(["settings"], { DATABASE_URL: url });
  assert.equal(await run.code, 0, run.err());
  assert.ok(!run.out().includes(SECRET), run.out());
  assert.match(
    run.out(),
    /^DATABASE_URL=postgres:\/\/avnadmin:\*\*\*@db\.example:5432\/app\?sslmode=verify-full&sslcert=client\.pem&sslkey=\*\*\*&sslpassword=\*\*\*&application_name=monitor$/m,
  );
});

Deno.test("monitor settings refuses a DATABASE_URL with a control character in it, showing none of it", async () => {
  for (const tail of ["\u001b[2J", "\u009b2J", "\u202e"]) {
    const run = monitor(["settings"], {
      DATABASE_URL: `postgres://u:${SECRET}@db.example/app?application_name=x${tail}`,
    });
    assert.equal(await run.code, 2, run.out());
    assert.equal(
      run.err(),
      "Invalid settings:\n  DATABASE_URL must not contain control characters (the value is not shown: it may hold a secret)\n1 problem found; nothing was started\n",
    );
    assert.equal(run.out(), "");
  }
});
