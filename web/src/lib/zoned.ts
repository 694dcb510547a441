// Days and times in one named time zone (the user's), whatever zone the
// browser's Date works in: the calendar and the queue place each post on the
// day and at the hour it has there, and a post moved to another day keeps
// its time of day there, summer time or not.

/** A time as a clock in the zone shows it; `month` from 1. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** A day as `2026-03-04`: sorts and compares as text, and names a day in no zone. */
export type DayKey = string;

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partsFormatters.set(zone, formatter);
  }
  return formatter;
}

/** The zone's clock at an instant. */
export function wallTime(at: Date | string, zone: string): WallTime & { second: number } {
  const date = typeof at === "string" ? new Date(at) : at;
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(zone).formatToParts(date)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    // Some engines say 24 for midnight even with h23.
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second,
  };
}

/** Minutes the zone is ahead of UTC at an instant (Berlin in winter: 60). */
export function offsetMinutes(at: Date, zone: string): number {
  const w = wallTime(at, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const whole = at.getTime() - at.getMilliseconds();
  return Math.round((asUtc - whole) / 60_000);
}

/**
 * The instant the zone's clock shows `w`. A time skipped when clocks go
 * forward comes out an hour later; one shown twice when they go back, the
 * first time.
 */
export function fromWallTime(w: WallTime, zone: string): Date {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  // A zone changes its offset at most once within a day: the offsets half a
  // day either side are the only ones the time can have.
  const before = offsetMinutes(new Date(asUtc - 12 * 3_600_000), zone);
  const after = offsetMinutes(new Date(asUtc + 12 * 3_600_000), zone);
  const candidates = [asUtc - before * 60_000, asUtc - after * 60_000].filter((t) => {
    const shown = wallTime(new Date(t), zone);
    return shown.day === w.day && shown.hour === w.hour && shown.minute === w.minute;
  });
  if (candidates.length === 0) return new Date(asUtc - before * 60_000);
  return new Date(Math.min(...candidates));
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `2026-03-04T09:30:00+01:00`: the zone's clock and offset, as the API takes a time. */
export function rfc3339InZone(w: WallTime, zone: string): string {
  const offset = offsetMinutes(fromWallTime(w, zone), zone);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${dayKeyOf(w)}T${pad(w.hour)}:${pad(w.minute)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An instant as the API's RFC 3339, in UTC to the second. */
export function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function dayKeyOf(w: Pick<WallTime, "year" | "month" | "day">): DayKey {
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The day an instant falls on in the zone. */
export function dayIn(at: Date | string, zone: string): DayKey {
  return dayKeyOf(wallTime(at, zone));
}

export function isDayKey(value: string | null): value is DayKey {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  return dayKeyOf(parseDay(value)) === value;
}

export function parseDay(key: DayKey): { year: number; month: number; day: number } {
  // Through Date.UTC, so that `2026-02-31` rolls over rather than being taken as it is.
  const [year, month, day] = key.split("-").map(Number);
  const d = new Date(Date.UTC(year, month - 1, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function addDays(key: DayKey, days: number): DayKey {
  const { year, month, day } = parseDay(key);
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return dayKeyOf({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

export function addMonths(key: DayKey, months: number): DayKey {
  const { year, month, day } = parseDay(key);
  // The same day of the other month, or its last (31 January + 1 month: 28 February).
  const last = new Date(Date.UTC(year, month - 1 + months + 1, 0)).getUTCDate();
  const d = new Date(Date.UTC(year, month - 1 + months, Math.min(day, last)));
  return dayKeyOf({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/** 0 for Monday … 6 for Sunday. */
export function weekday(key: DayKey): number {
  const { year, month, day } = parseDay(key);
  return (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
}

/** Monday to Sunday of the week `key` is in. */
export function weekOf(key: DayKey): DayKey[] {
  const monday = addDays(key, -weekday(key));
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
}

/** Whole weeks, Monday to Sunday, from the one holding the month's first day to the one holding its last. */
export function monthGrid(key: DayKey): DayKey[] {
  const { year, month } = parseDay(key);
  const first = dayKeyOf({ year, month, day: 1 });
  const last = addDays(addMonths(first, 1), -1);
  const start = addDays(first, -weekday(first));
  const end = addDays(last, 6 - weekday(last));
  const days: DayKey[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) days.push(d);
  return days;
}

/** When the day starts in the zone. */
export function startOfDay(key: DayKey, zone: string): Date {
  return fromWallTime({ ...parseDay(key), hour: 0, minute: 0 }, zone);
}

/** `09:30`: the time of day in the zone, on a 24-hour clock. */
export function timeOfDay(at: Date | string, zone: string): string {
  const w = wallTime(at, zone);
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** The value a datetime-local field shows for an instant in the zone: `2026-03-04T09:30`. */
export function localInputValue(at: Date | string, zone: string): string {
  const w = wallTime(at, zone);
  return `${dayIn(at, zone)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** A datetime-local field's value (`2026-03-04T09:30`), or null if it is not one. */
export function parseLocalInput(value: string): WallTime | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return { year, month, day, hour, minute };
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const longDayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" });
const monthFormat = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

const utcDate = (key: DayKey) => {
  const { year, month, day } = parseDay(key);
  return new Date(Date.UTC(year, month - 1, day));
};

/** `Wed, Mar 4` in the browser's language. */
export function dayLabel(key: DayKey): string {
  return dayFormat.format(utcDate(key));
}

/** `Wed` in the browser's language. */
export function weekdayLabel(key: DayKey): string {
  return weekdayFormat.format(utcDate(key));
}

/** `Wednesday, March 4, 2026` in the browser's language. */
export function longDayLabel(key: DayKey): string {
  return longDayFormat.format(utcDate(key));
}

/** `March 2026` in the browser's language. */
export function monthLabel(key: DayKey): string {
  return monthFormat.format(utcDate(key));
}

/** `Wed, Mar 4, 09:30`: a post's time in the zone, for notices. */
export function whenLabel(at: Date | string, zone: string): string {
  return `${dayLabel(dayIn(at, zone))}, ${timeOfDay(at, zone)}`;
}
