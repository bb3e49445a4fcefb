/**
 * Checks the site at `Deno.args[0]` (trusting the CA file at `Deno.args[1]`) `Deno.args[2]` times
 * (once unless told), one after the other, and prints the results as a JSON array. Run as a
 * process of its own, its first check is the process's first connection: what
 * `monitor produce --once` does, and what `phases_test.ts` times.
 *
 * @module
 */
import { checkSite } from "../../src/check/check_site.ts";
import { siteFor } from "../_helpers/sites.ts";

const [url = "", caFile = "", count = "1"] = Deno.args;
const results = [];
for (let i = 0; i < Number(count); i++) {
  results.push(await checkSite(siteFor(url, { ca_file: caFile })));
}
console.log(JSON.stringify(results));
