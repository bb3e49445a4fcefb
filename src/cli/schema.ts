/**
 * `monitor schema`: the JSON Schemas of the message formats and the sites file, generated from the
 * zod schemas the code validates with, so the documents cannot drift from the code.
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

/** File name → JSON Schema document. */
export function jsonSchemas(): Record<string, unknown> {
  return {
    "alert_webhook.v1.json": {
      ...z.toJSONSchema(notificationSchema),
      $id: "https://website-monitor.dev/schema/alert_webhook.v1.json",
      title: "website-monitor alert webhook body, version 1",
    },
    "check_result.v1.json": {
      ...z.toJSONSchema(checkResultSchema),
      $id: "https://website-monitor.dev/schema/check_result.v1.json",
      title: "website-monitor check result, version 1",
    },
    "site.v1.json": {
      ...z.toJSONSchema(siteMessageSchema),
      $id: "https://website-monitor.dev/schema/site.v1.json",
      title: "website-monitor site on the sites topic, version 1",
    },
    "sites.json": {
      ...z.toJSONSchema(sitesFileSchema, { io: "input" }),
      $id: "https://website-monitor.dev/schema/sites.json",
      title: "website-monitor sites file",
    },
  };
}

/** The text of a schema file as committed. */
export function schemaFileText(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/**
 * Runs `monitor schema`: prints the schemas, or writes them into a directory (created if missing).
 *
 * @param options `write`: a directory to write the files into.
 * @param context Output.
 * @throws {UsageError} When the directory cannot be made or written to.
 */
export async function schemaCommand(
  options: { readonly write?: string },
  context: CliContext,
): Promise<void> {
  const dir = options.write;
  if (dir !== undefined) await writable(dir, () => Deno.mkdir(dir, { recursive: true }));
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    if (dir === undefined) {
      context.writeOut(`// ${name}\n${schemaFileText(schema)}`);
    } else {
      await writable(dir, () => Deno.writeTextFile(`${dir}/${name}`, schemaFileText(schema)));
      context.writeErr(`wrote ${dir}/${name}\n`);
    }
  }
}

/**
 * Runs `write`, turning the file system's refusal (a file in the way, no permission) into a user's
 * error naming `dir`.
 */
async function writable(dir: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw new UsageError(`Cannot write the schemas into "${dir}": ${(error as Error).message}`);
  }
}
