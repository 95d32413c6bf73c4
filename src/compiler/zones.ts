/**
 * The time zones Intl names (canonical IANA names; ICU lists no aliases) and UTC, read once per
 * process: the compiler checks zone names against them and the targets' daylight-saving table
 * covers them.
 */
let zones: ReadonlySet<string> | undefined;

export function knownZones(): ReadonlySet<string> {
  return (zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']));
}
