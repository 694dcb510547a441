import { describe, expect, it } from "vitest";
import { SHORT_CHARS, shorten } from "./shorten";

describe("shortening a long post for a list", () => {
  it("leaves a post that fits alone", () => {
    expect(shorten("A short post")).toBeNull();
    expect(shorten("one\ntwo\nthree\nfour\n")).toBeNull();
    expect(shorten("x".repeat(SHORT_CHARS))).toBeNull();
  });

  it("cuts a long one at a word, before the limit, and marks the cut", () => {
    const words = "word ".repeat(100);
    const short = shorten(words) as string;
    expect(short.endsWith("word…")).toBe(true);
    expect(Array.from(short).length).toBeLessThanOrEqual(SHORT_CHARS + 1);
  });

  it("cuts one with no spaces at the limit, never inside an emoji", () => {
    const thumbs = "👍🏽".repeat(SHORT_CHARS + 5);
    const short = shorten(thumbs) as string;
    expect(short).toBe(`${"👍🏽".repeat(SHORT_CHARS)}…`);
  });

  it("shows at most four lines", () => {
    expect(shorten("1\n2\n3\n4\n5")).toBe("1\n2\n3\n4…");
  });
});
