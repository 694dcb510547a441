import { describe, expect, it } from "vitest";
import { nextAttemptWhen, taskEventOutcome, taskEventText, taskStatusLabel } from "./status";

const now = Date.parse("2026-01-01T10:00:00Z");

describe("when a waiting task runs again", () => {
  it("says the local time a minute or more ahead, seconds under a minute, and never 'soon'", () => {
    const later = "2026-01-01T10:05:00Z";
    expect(nextAttemptWhen(later, now)).toBe(`at ${new Date(later).toLocaleString()}`);
    expect(nextAttemptWhen("2026-01-01T10:00:12.300Z", now)).toBe("in 13 s");
    expect(nextAttemptWhen("2026-01-01T09:59:00Z", now)).toBe("now");
    expect(taskStatusLabel({ status: "retry_scheduled", next_attempt_at: later }, now)).toEqual([
      `Retrying at ${new Date(later).toLocaleString()}`,
      "warning",
    ]);
    expect(taskStatusLabel({ status: "retry_scheduled", next_attempt_at: "2026-01-01T10:00:30Z" }, now)[0]).toBe(
      "Retrying in 30 s",
    );
    expect(taskStatusLabel({ status: "unconfirmed", next_attempt_at: "2026-01-01T10:00:30Z" }, now)[0]).toBe(
      "Checking with the platform: checking again in 30 s",
    );
    // Without a time the plain words stay.
    expect(taskStatusLabel({ status: "retry_scheduled", next_attempt_at: null }, now)[0]).toBe("Retrying soon");
    expect(taskStatusLabel({ status: "succeeded", next_attempt_at: null }, now)[0]).toBe("Published");
  });
});

describe("a task's state changes in words", () => {
  it("names each change plainly", () => {
    const change = (to_status: string, from_status: string | null = "running", attempt = 2) =>
      taskEventText({ to_status, from_status, attempt });
    expect(change("queued", null, 0)).toBe("Queued");
    expect(change("queued", "failed")).toBe("Queued again");
    expect(change("running", "retry_scheduled")).toBe("Attempt 2 started");
    expect(change("retry_scheduled")).toBe("Failed for now — retrying");
    expect(change("unconfirmed")).toBe("Checking with the platform whether it arrived");
    expect(change("succeeded")).toBe("Published");
    expect(change("failed")).toBe("Failed");
    expect(change("cancelled", "queued")).toBe("Cancelled");
    expect(change("something_new")).toBe("something new");
  });

  it("says what the platform answered", () => {
    expect(taskEventOutcome({ outcome: "transient", platform_status: 503, latency_ms: 1240 })).toBe(
      `temporary problem · HTTP 503 · ${(1240).toLocaleString()} ms`,
    );
    expect(taskEventOutcome({ outcome: "ok", platform_status: 201, latency_ms: null })).toBe("HTTP 201");
    expect(taskEventOutcome({ outcome: null, platform_status: null, latency_ms: null })).toBe("");
  });
});
