import { describe, expect, it } from "vitest";
import { avatarTone, displayNameOf, initialOf } from "./avatar";

describe("initialOf", () => {
  it("takes the name's first letter, upper-cased, whole even outside the BMP", () => {
    expect(initialOf("ada@example.com")).toBe("A");
    expect(initialOf(" émile@example.com")).toBe("É");
    expect(initialOf("𝒶@example.com")).toBe("𝒶");
    expect(initialOf("")).toBe("?");
  });

  it("skips a handle's @", () => {
    expect(initialOf("@alice:localhost")).toBe("A");
  });
});

describe("an account's colour", () => {
  it("is the same for one account every time, and differs between accounts", () => {
    expect(avatarTone("c1")).toBe(avatarTone("c1"));
    expect(avatarTone("c1")).toMatch(/^bg-[a-z]+-700$/);
    const tones = new Set(["c1", "c2", "c3", "c4", "c5", "c6"].map(avatarTone));
    expect(tones.size).toBeGreaterThan(1);
  });
});

describe("an account's display name", () => {
  it("is shown when it says more than the handle", () => {
    expect(displayNameOf({ display_name: "Ada Lovelace", handle: "ada" })).toBe("Ada Lovelace");
    expect(displayNameOf({ display_name: " Ada ", handle: "ada" })).toBe("Ada");
  });

  it("is not, when it is empty or the handle again", () => {
    expect(displayNameOf({ display_name: "", handle: "ada" })).toBeNull();
    expect(displayNameOf({ display_name: "ada.test", handle: "ada.test" })).toBeNull();
    expect(displayNameOf({ display_name: "@alice:localhost", handle: "@alice:localhost" })).toBeNull();
    expect(displayNameOf({ display_name: null, handle: "ada" })).toBeNull();
    expect(displayNameOf({ display_name: "ada", handle: "ada@mastodon.social" })).toBeNull();
    expect(displayNameOf({ display_name: "alice", handle: "@alice:example.org" })).toBeNull();
    // Not the same name, only alike.
    expect(displayNameOf({ display_name: "Hal", handle: "hal@fosstodon.org" })).toBe("Hal");
  });
});
