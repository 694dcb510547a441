import { describe, expect, it } from "vitest";
import { failureOf } from "./failure";

const now = Date.parse("2026-01-01T10:00:00Z");
const later = "2026-01-01T10:05:00Z";
const at = `at ${new Date(later).toLocaleString()}`;

const task = (fields: Partial<Parameters<typeof failureOf>[0]>) => ({
  status: "failed" as const,
  platform: "manch",
  last_error_kind: null,
  last_error: null,
  next_attempt_at: null,
  ...fields,
});

describe("a target's failure in plain words", () => {
  it("says a passing outage retries by itself, at its time, and shows the platform's words apart", () => {
    const failure = failureOf(
      task({ status: "retry_scheduled", last_error_kind: "transient", last_error: "503 Service Unavailable", next_attempt_at: later }),
      now,
    );
    expect(failure).toEqual({
      what: "The platform was briefly unavailable.",
      next: `Prasaran retries by itself ${at}.`,
      said: "503 Service Unavailable",
      retrying: true,
    });
  });

  it("asks for a retry once an outage has worn out the attempts", () => {
    const failure = failureOf(task({ last_error_kind: "transient", last_error: "gave up after 3 attempts" }), now);
    expect(failure?.next).toBe("Prasaran has stopped trying: retry once it is back.");
    expect(failure?.retrying).toBe(false);
  });

  it("names the platform that slowed Prasaran down", () => {
    expect(
      failureOf(task({ status: "retry_scheduled", platform: "mastodon", last_error_kind: "rate_limited", next_attempt_at: later }), now),
    ).toMatchObject({ what: "Mastodon asked Prasaran to post less often for now.", next: `Prasaran retries by itself ${at}.` });
    expect(failureOf(task({ last_error_kind: "rate_limited" }), now)?.next).toBe("Wait a few minutes, then retry.");
  });

  it("puts a refusal's reason in the sentence, once, and asks for an edit", () => {
    const failure = failureOf(
      task({ platform: "bluesky", last_error_kind: "rejected", last_error: "the text is longer than 300 graphemes." }),
      now,
    );
    expect(failure).toEqual({
      what: "Bluesky refused this post: the text is longer than 300 graphemes.",
      next: "Edit the text and post again.",
      said: null,
      retrying: false,
    });
    expect(failureOf(task({ last_error_kind: "rejected" }), now)?.what).toBe("Manch refused this post.");
  });

  it("sends a lost grant to the Dashboard to reconnect, for a revoked and a refused token alike", () => {
    for (const kind of ["revoked", "unauthorized"]) {
      expect(failureOf(task({ last_error_kind: kind, last_error: "invalid_token" }), now)).toEqual({
        what: "Prasaran can no longer post to this account.",
        next: "Reconnect it on the Dashboard.",
        link: "/",
        said: "invalid_token",
        retrying: false,
      });
    }
  });

  it("warns against posting twice when it is unclear whether the post arrived", () => {
    expect(
      failureOf(task({ status: "unconfirmed", last_error_kind: "unknown", next_attempt_at: later }), now),
    ).toMatchObject({
      what: "Prasaran could not tell whether Manch received the post.",
      next: `Prasaran asks Manch again by itself ${at}, so it is not posted twice.`,
      retrying: true,
    });
    expect(failureOf(task({ last_error_kind: "unknown" }), now)?.next).toBe(
      "Look on Manch before you retry, so it is not posted twice.",
    );
  });

  it("falls back to the message alone for a kind it does not know, and says nothing without one", () => {
    expect(failureOf(task({ last_error_kind: "something_new", last_error: "odd" }), now)).toMatchObject({
      what: "The post did not go out.",
      said: "odd",
    });
    expect(failureOf(task({}), now)).toBeNull();
  });

  it("is no failure while a target waits, runs, succeeded, or was cancelled or missed", () => {
    for (const status of ["queued", "running", "succeeded", "cancelled", "missed"] as const) {
      expect(failureOf(task({ status, last_error_kind: "transient", last_error: "x" }), now)).toBeNull();
    }
  });
});
