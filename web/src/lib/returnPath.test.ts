import { describe, expect, it } from "vitest";
import { fromOf, returnPath } from "./returnPath";

describe("returnPath", () => {
  it("keeps a path on this site, with its query", () => {
    expect(returnPath("/jobs/5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c")).toBe("/jobs/5f0c6a0e-4d1b-4b7e-9a3c-0b6a8f1d2e3c");
    expect(returnPath("/history?x=1")).toBe("/history?x=1");
    expect(returnPath("/")).toBe("/");
  });

  it("refuses anything that could lead elsewhere, or back to the login", () => {
    for (const from of [
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "jobs/1",
      "",
      "/login",
      "/signup?x=1",
      "/\tx",
      undefined,
      null,
      42,
    ]) {
      expect(returnPath(from)).toBeNull();
    }
  });

  it("reads `from` out of router state", () => {
    expect(fromOf({ from: "/history" })).toBe("/history");
    expect(fromOf(null)).toBeUndefined();
    expect(fromOf("nope")).toBeUndefined();
  });
});
