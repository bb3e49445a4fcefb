/**
 * The SQL files of `sql/`, imported as text so that they are part of the program itself: a
 * compiled `monitor` binary carries its schema. A test checks that this list and the directory
 * agree, so a new file cannot be forgotten here.
 *
 * @module
 */
import schema from "../../sql/0001_schema.sql" with { type: "text" };

/** File name → SQL text, for every file in `sql/`. */
export const MIGRATION_FILES: Readonly<Record<string, string>> = {
  "0001_schema.sql": schema,
};
