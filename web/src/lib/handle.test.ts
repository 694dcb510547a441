import { describe, expect, it } from "vitest";
import { atHandle, taskTarget } from "./handle";

describe("atHandle", () => {
  it("writes one `@` before a handle, and keeps a Matrix ID's own", () => {
    expect(atHandle("ada.bsky.social")).toBe("@ada.bsky.social");
    expect(atHandle("hal@fosstodon.org")).toBe("@hal@fosstodon.org");
    expect(atHandle("@alice:example.org")).toBe("@alice:example.org");
  });
});

describe("taskTarget", () => {
  it("names the room after the account where the task has one", () => {
    expect(taskTarget({ handle: "@alice:localhost", destination_name: "Announcements" })).toBe(
      "@alice:localhost · Announcements",
    );
    expect(taskTarget({ handle: "ada.test", destination_name: null })).toBe("@ada.test");
    expect(taskTarget({ handle: "ada.test" })).toBe("@ada.test");
  });
});
