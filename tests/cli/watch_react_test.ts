/**
 * `monitor watch` draws with React's production build: React picks its build from `NODE_ENV` as it
 * loads, so nothing that `src/cli/watch.ts` imports at the top may load React or ink (the command
 * sets the variable, then imports them).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Dependency {
  readonly code?: { readonly specifier: string };
  readonly isDynamic?: boolean;
}

interface ModuleInfo {
  readonly specifier: string;
  readonly dependencies?: readonly Dependency[];
}

/** The modules `entry` loads before its own code runs: its static imports, in turn. */
async function staticGraph(entry: string): Promise<Set<string>> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const { roots, modules } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    roots: string[];
    modules: ModuleInfo[];
  };
  const bySpecifier = new Map(modules.map((module) => [module.specifier, module]));
  const reached = new Set<string>();
  const next = [...roots];
  while (next.length > 0) {
    const specifier = next.pop()!;
    if (reached.has(specifier)) continue;
    reached.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      // Type-only imports have no `code`; a dynamic import loads when the code asks.
      if (dependency.code !== undefined && !dependency.isDynamic) {
        next.push(dependency.code.specifier);
      }
    }
  }
  return reached;
}

Deno.test("monitor watch loads React and ink only after choosing React's production build", async () => {
  const loaded = [...await staticGraph("src/cli/watch.ts")];
  assert.ok(loaded.some((specifier) => specifier.endsWith("/src/watch/table.ts")), "graph read");
  const early = loaded.filter((specifier) =>
    /^npm:\/?(react|ink)@/.test(specifier) || specifier.endsWith(".tsx")
  );
  assert.deepEqual(early, []);
});
