import { describe, expect, it } from "vitest";
import { platformName } from "./platforms";

describe("platformName", () => {
  it("names the known platforms as they name themselves", () => {
    expect(platformName("manch")).toBe("Manch");
    expect(platformName("bluesky")).toBe("Bluesky");
    expect(platformName("mastodon")).toBe("Mastodon");
    expect(platformName("matrix")).toBe("Matrix");
  });

  it("capitalises an id it does not know", () => {
    expect(platformName("pixelfed")).toBe("Pixelfed");
    expect(platformName("")).toBe("");
  });
});
