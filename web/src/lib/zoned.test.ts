import { describe, expect, it } from "vitest";
import {
  addDays,
  addMonths,
  dayIn,
  fromWallTime,
  isDayKey,
  localInputValue,
  monthGrid,
  parseLocalInput,
  rfc3339InZone,
  startOfDay,
  timeOfDay,
  weekOf,
  weekday,
} from "./zoned";

const BERLIN = "Europe/Berlin";

describe("times in a zone", () => {
  it("places an instant on the zone's day and clock, not the browser's", () => {
    // 23:30 UTC is already the next day in Berlin, and still the day before in New York.
    expect(dayIn("2026-03-04T23:30:00Z", BERLIN)).toBe("2026-03-05");
    expect(timeOfDay("2026-03-04T23:30:00Z", BERLIN)).toBe("00:30");
    expect(dayIn("2026-03-05T02:00:00Z", "America/New_York")).toBe("2026-03-04");
    expect(localInputValue("2026-07-04T07:15:00Z", BERLIN)).toBe("2026-07-04T09:15");
  });

  it("finds the instant a wall time names, in winter and in summer", () => {
    expect(fromWallTime({ year: 2026, month: 1, day: 10, hour: 9, minute: 30 }, BERLIN).toISOString()).toBe(
      "2026-01-10T08:30:00.000Z",
    );
    expect(fromWallTime({ year: 2026, month: 7, day: 10, hour: 9, minute: 30 }, BERLIN).toISOString()).toBe(
      "2026-07-10T07:30:00.000Z",
    );
    expect(rfc3339InZone({ year: 2026, month: 7, day: 10, hour: 9, minute: 30 }, BERLIN)).toBe("2026-07-10T09:30:00+02:00");
    expect(rfc3339InZone({ year: 2026, month: 1, day: 10, hour: 9, minute: 5 }, "America/New_York")).toBe(
      "2026-01-10T09:05:00-05:00",
    );
    expect(rfc3339InZone({ year: 2026, month: 1, day: 10, hour: 9, minute: 5 }, "Asia/Kolkata")).toBe(
      "2026-01-10T09:05:00+05:30",
    );
  });

  it("moves a time the clocks skip an hour on, and takes the first of one shown twice", () => {
    // Berlin skips 02:00–03:00 on 29 March 2026 and shows 02:00–03:00 twice on 25 October.
    expect(fromWallTime({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, BERLIN).toISOString()).toBe(
      "2026-03-29T01:30:00.000Z",
    );
    expect(fromWallTime({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, BERLIN).toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
    expect(startOfDay("2026-03-29", BERLIN).toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect(startOfDay("2026-03-30", BERLIN).toISOString()).toBe("2026-03-29T22:00:00.000Z");
  });

  it("reads a datetime-local value, and nothing else", () => {
    expect(parseLocalInput("2026-03-04T09:30")).toEqual({ year: 2026, month: 3, day: 4, hour: 9, minute: 30 });
    expect(parseLocalInput("")).toBeNull();
    expect(parseLocalInput("2026-13-04T09:30")).toBeNull();
  });
});

describe("days", () => {
  it("counts across months and years, and weeks from Monday", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-28");
    expect(addMonths("2026-01-15", -1)).toBe("2025-12-15");
    expect(weekday("2026-03-02")).toBe(0);
    expect(weekday("2026-03-08")).toBe(6);
    expect(weekOf("2026-03-04")).toEqual([
      "2026-03-02",
      "2026-03-03",
      "2026-03-04",
      "2026-03-05",
      "2026-03-06",
      "2026-03-07",
      "2026-03-08",
    ]);
  });

  it("grids a month in whole weeks, Monday to Sunday", () => {
    // March 2026 starts on a Sunday and ends on a Tuesday.
    const march = monthGrid("2026-03-17");
    expect(march[0]).toBe("2026-02-23");
    expect(march[march.length - 1]).toBe("2026-04-05");
    expect(march).toHaveLength(42);
    // February 2026 starts on a Sunday too: the week before it is shown.
    const february = monthGrid("2026-02-01");
    expect(february[0]).toBe("2026-01-26");
    expect(february.length % 7).toBe(0);
  });

  it("knows a day's name from anything else", () => {
    expect(isDayKey("2026-03-04")).toBe(true);
    expect(isDayKey("2026-02-31")).toBe(false);
    expect(isDayKey("tomorrow")).toBe(false);
    expect(isDayKey(null)).toBe(false);
  });
});
