import { describe, expect, it } from "vitest";
import { LANGUAGES, defaultLanguage } from "./languages";

describe("languages", () => {
  it("offers only two-letter lowercase ISO 639-1 codes, each once", () => {
    const codes = LANGUAGES.map((l) => l.code);
    expect(codes.every((c) => /^[a-z]{2}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual(expect.arrayContaining(["en", "hi", "de", "fr", "es", "pt", "ja"]));
  });

  it("defaults to the browser's language where it is offered, else to none", () => {
    expect(defaultLanguage("en-US")).toBe("en");
    expect(defaultLanguage("PT-br")).toBe("pt");
    expect(defaultLanguage("hi")).toBe("hi");
    expect(defaultLanguage("xx-YY")).toBe("");
    expect(defaultLanguage("")).toBe("");
  });
});
