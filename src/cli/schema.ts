/**
 * `monitor schema`: the JSON Schemas of the messages and the sites file, from the zod schemas.
 *
 * @module
 */
import { z } from "zod";
import { notificationSchema } from "../alert/notification.ts";
import { checkResultSchema } from "../check/result.ts";
import { sitesFileSchema } from "../sites/file.ts";
import { UsageError } from "../errors.ts";
import { siteMessageSchema } from "../sites/site_message.ts";
import type { CliContext } from "./context.ts";

/** Each document's schema, title and side (the sites file is what a user writes: its input). */
const DOCUMENTS = {
  "alert_webhook.v1.json": [notificationSchema, "alert webhook body, version 1", "output"],
  "check_result.v1.json": [checkResultSchema, "check result, version 1", "output"],
  "site.v1.json": [siteMessageSchema, "site on the sites topic, version 1", "output"],
  "sites.json": [sitesFileSchema, "sites file", "input"],
} as const;

/** File name → JSON Schema document. */
export function jsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(DOCUMENTS).map(([name, [schema, title, io]]) => [name, {
      ...z.toJSONSchema(schema, { io }),
      $id: `https://website-monitor.dev/schema/${name}`,
      title: `website-monitor ${title}`,
    }]),
  );
}

/** The text of a schema file as committed. */
export function schemaFileText(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Runs `monitor schema`: prints the schemas, or writes them into a directory (made if missing). */
export async function schemaCommand(
  options: { readonly write?: string },
  context: CliContext,
): Promise<void> {
  const schemas = Object.entries(jsonSchemas());
  const dir = options.write;
  if (dir === undefined) {
    for (const [name, schema] of schemas) context.writeOut(`// ${name}\n${schemaFileText(schema)}`);
    return;
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    for (const [name, schema] of schemas) {
      await Deno.writeTextFile(`${dir}/${name}`, schemaFileText(schema));
    }
  } catch (error) {
    throw new UsageError(`Cannot write the schemas into "${dir}": ${(error as Error).message}`);
  }
  for (const [name] of schemas) context.writeErr(`wrote ${dir}/${name}\n`);
}
