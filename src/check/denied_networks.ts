/**
 * Networks no check may connect to. Anyone who can name a site (the sites file, and the sites
 * topic where many may write) can make a checker request any URL: the cloud metadata services on
 * link-local addresses hand out credentials to whoever asks from inside. The rule holds for the
 * address a name resolves to, at every redirect hop, not for the URL's text.
 *
 * @module
 */
import { BlockList, isIP } from "node:net";
import { SETTINGS } from "../config/settings_schema.ts";

/** Thrown (as a connection error) for a destination in a denied network. */
export class DeniedAddressError extends Error {
  /** Recognised by the classifier as the `denied` kind. */
  readonly code = "ERR_DENIED_ADDRESS";
  constructor(address: string) {
    super(`${address} is in a network checks may not reach (CHECK_DENY_NETWORKS)`);
  }
}

/**
 * The networks as a list to look addresses up in.
 *
 * @param cidrs Networks such as `169.254.0.0/16` (as the `CHECK_DENY_NETWORKS` setting gives them).
 * @returns The list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deniedNetworks, isDenied } from "./denied_networks.ts";
 * const denied = deniedNetworks(["169.254.0.0/16"]);
 * assert.equal(isDenied(denied, "169.254.169.254"), true);
 * assert.equal(isDenied(denied, "::ffff:169.254.169.254"), true);
 * assert.equal(isDenied(denied, "10.0.0.1"), false);
 * ```
 */
export function deniedNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = "", prefix = ""] = cidr.split("/");
    list.addSubnet(address, Number(prefix), isIP(address) === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

/** The default of `CHECK_DENY_NETWORKS`: link-local, where cloud metadata services listen. */
export const DEFAULT_DENIED_NETWORKS: BlockList = deniedNetworks(
  SETTINGS.CHECK_DENY_NETWORKS.default.split(","),
);

/**
 * Whether `address` (an IP address) is in one of the networks.
 *
 * @param list The networks.
 * @param address An IPv4 or IPv6 address; IPv4-mapped IPv6 addresses count as their IPv4 one.
 * @returns `true` when a check may not connect to it.
 */
export function isDenied(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}
