/**
 * The SQL files of `sql/`, imported as text so that they are part of the program itself: a
 * compiled `monitor` binary carries its schema. A test checks that this list and the directory
 * agree, so a new file cannot be forgotten here.
 *
 * @module
 */
import init from "../../sql/0001_init.sql" with { type: "text" };
import partitionedStorage from "../../sql/0002_partitioned_storage.sql" with { type: "text" };
import fasterRollups from "../../sql/0003_faster_rollups.sql" with { type: "text" };
import siteVersions from "../../sql/0004_site_versions.sql" with { type: "text" };
import phaseTimings from "../../sql/0005_phase_timings.sql" with { type: "text" };
import regions from "../../sql/0006_regions.sql" with { type: "text" };
import alerts from "../../sql/0007_alerts.sql" with { type: "text" };

/** File name → SQL text, for every file in `sql/`. */
export const MIGRATION_FILES: Readonly<Record<string, string>> = {
  "0001_init.sql": init,
  "0002_partitioned_storage.sql": partitionedStorage,
  "0003_faster_rollups.sql": fasterRollups,
  "0004_site_versions.sql": siteVersions,
  "0005_phase_timings.sql": phaseTimings,
  "0006_regions.sql": regions,
  "0007_alerts.sql": alerts,
};
