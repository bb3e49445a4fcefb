import { parseSites } from "./src/config/sites.ts";
const text = `defaults:
  interval: 10s
  timeout: 20s
sites:
  - id: a
    url: example.com
    colour: red
  - id: a
    url: https://x.test/
    pattern: "a(b"
    interval: 1s
  - url: https://ok.test
    timeout: 5
  - id: "bad id!"
    url: ftp://x
`;
try {
  parseSites(text, "sites.yaml");
} catch (e) {
  console.log((e as Error).message);
}
try {
  parseSites("sites: [\n  - a\n", "s.yaml");
} catch (e) {
  console.log((e as Error).message);
}
try {
  parseSites("", "empty.yaml");
} catch (e) {
  console.log((e as Error).message);
}
console.log(
  parseSites("sites:\n - id: x\n   url: https://example.com\n   pattern: '(?i)hello'\n", "ok.yaml"),
);
