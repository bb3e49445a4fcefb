/**
 * Networks no check may connect to (`CHECK_DENY_NETWORKS`): whoever can name a site can make a
 * checker request any URL, and cloud metadata services hand out credentials. The rule holds for the
 * address a name resolves to, at every redirect hop, not for the URL's text.
 *
 * @module
 */
import { BlockList, isIP } from "node:net";
import { SETTINGS } from "../config/settings_schema.ts";

/** Thrown (as a connection error) for a destination in a denied network. */
export class DeniedAddressError extends Error {
  readonly code = "ERR_DENIED_ADDRESS";
  constructor(address: string) {
    super(`${address} is in a network checks may not reach (CHECK_DENY_NETWORKS)`);
  }
}

/** The networks (such as `169.254.0.0/16`) as a list to look addresses up in. */
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

/** Whether a check may not connect to `address` (or to the IPv4 address an IPv6 one carries). */
export function isDenied(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.check(address, "ipv4");
  if (family !== 6) return false;
  return list.check(address, "ipv6") ||
    embeddedIpv4(address).some((ipv4) => list.check(ipv4, "ipv4"));
}

/** IPv6 networks whose addresses reach the IPv4 address they carry, and where it starts in bits. */
const IPV4_CARRIERS = [
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], at: [96] }, // ::ffff:0:0/96, IPv4-mapped
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], at: [96] }, // ::/96, IPv4-compatible
  { prefix: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], at: [96] }, // 64:ff9b::/96, NAT64
  { prefix: [0, 0x64, 0xff, 0x9b, 0, 1], at: [48, 56, 64, 96] }, // 64:ff9b:1::/48, any RFC 6052 layout
  { prefix: [0x20, 0x02], at: [16] }, // 2002::/16, 6to4
];

/** The IPv4 addresses an IPv6 address may carry (RFC 4291, 6052, 8215, 3056), dotted. */
function embeddedIpv4(address: string): string[] {
  const bytes = ipv6Bytes(address);
  // (:: and ::1 are the unspecified and the loopback address, not IPv4-compatible ones.)
  if (bytes === null || bytes.every((byte, i) => i === 15 ? byte <= 1 : byte === 0)) return [];
  return IPV4_CARRIERS.filter(({ prefix }) => prefix.every((byte, i) => bytes[i] === byte))
    .flatMap(({ at }) => at)
    // RFC 6052: the IPv4 address fills the bytes after the prefix, skipping bits 64 to 71.
    .map((bits) => bytes.filter((_, i) => i >= bits / 8 && i !== 8).slice(0, 4).join("."));
}

/** The 16 bytes of an IPv6 address; `null` for what is not one. */
function ipv6Bytes(address: string): number[] | null {
  // The URL parser writes it out in hexadecimal groups (a dotted tail too), "::" at most once.
  const host = URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1);
  if (host === undefined) return null;
  const [head, tail] = host.split("::");
  const groups = (text = "") => text === "" ? [] : text.split(":");
  const gap = tail === undefined ? 0 : 8 - groups(head).length - groups(tail).length;
  return [...groups(head), ...Array(gap).fill("0"), ...groups(tail)].flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}
