/**
 * `/api/v1/openapi.json`: the OpenAPI 3.1 document of the API, generated from the zod schemas that
 * the handlers validate with, so it cannot drift from what they accept and answer.
 *
 * @module
 */
import { z } from "zod";
import { VERSION } from "../version.ts";
import {
  checksAnswer,
  checksQuery,
  errorAnswer,
  incidentsAnswer,
  incidentsQuery,
  sitesAnswer,
  siteSchema,
  sitesQuery,
  uptimeAnswer,
  uptimeQuery,
} from "./api_schema.ts";

type JsonSchema = Record<string, unknown>;

/** Zod's JSON Schema of `schema`; the schemas it names (`.meta({ id })`) go into `components`. */
function jsonSchema(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, JsonSchema>,
): JsonSchema {
  const text = JSON.stringify(z.toJSONSchema(schema, { io, target: "draft-2020-12" }))
    .replaceAll('"#/$defs/', '"#/components/schemas/');
  const { $schema: _, $defs = {}, ...rest } = JSON.parse(text) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  Object.assign(components, $defs);
  return rest;
}

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const { properties = {} } = jsonSchema(schema, "input", {}) as {
    properties?: Record<string, JsonSchema>;
  };
  return Object.entries(properties).map(([name, { description, ...parameter }]) => ({
    name,
    in: "query",
    required: false,
    ...(description === undefined ? {} : { description }),
    schema: parameter,
  }));
}

const siteIdPath = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The site's id",
};

function operation(
  components: Record<string, JsonSchema>,
  summary: string,
  answer: z.ZodType,
  parameters: JsonSchema[],
): JsonSchema {
  const error = (description: string) => ({
    description,
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  });
  return {
    get: {
      summary,
      parameters,
      responses: {
        "200": {
          description: "OK",
          content: {
            "application/json": { schema: jsonSchema(answer, "output", components) },
          },
        },
        "304": { description: "Not modified (If-None-Match named the ETag)" },
        "400": error("A bad parameter, named in the message"),
        "401": error("SERVE_API_TOKEN is set and the request lacks it"),
        "404": error("No such site (or not shown)"),
      },
    },
  };
}

/** The OpenAPI document, as JSON would carry it. */
export function openApiDocument(): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  jsonSchema(errorAnswer, "output", components);
  const paths = {
    "/api/v1/sites": operation(
      components,
      "Sites with state and uptime, by id",
      sitesAnswer,
      queryParameters(sitesQuery),
    ),
    "/api/v1/sites/{id}": operation(components, "One site", siteSchema, [siteIdPath]),
    "/api/v1/sites/{id}/checks": operation(
      components,
      "A site's checks, newest first",
      checksAnswer,
      [siteIdPath, ...queryParameters(checksQuery)],
    ),
    "/api/v1/sites/{id}/uptime": operation(
      components,
      "A site's uptime by hour or UTC day and region",
      uptimeAnswer,
      [siteIdPath, ...queryParameters(uptimeQuery)],
    ),
    "/api/v1/incidents": operation(
      components,
      "Incidents open now, or in a range",
      incidentsAnswer,
      queryParameters(incidentsQuery),
    ),
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "website-monitor",
      version: VERSION,
      description:
        "Read-only: the sites, checks, uptime and incidents that `monitor serve` shows. With SERVE_API_TOKEN set, every request needs `Authorization: Bearer <token>`.",
    },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    // The token is optional: required only when SERVE_API_TOKEN is set.
    security: [{}, { bearer: [] }],
    paths,
  };
}
