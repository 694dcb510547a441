import { describe, expect, it } from "vitest";
import { detectFacets } from "./facets";

// Each facet as the text it covers, checked against both kinds of offset.
function spans(text: string) {
  const bytes = new TextEncoder().encode(text);
  const decode = (start: number, end: number) => new TextDecoder().decode(bytes.slice(start, end));
  return detectFacets(text).map((f) => {
    expect(decode(f.start, f.end)).toBe(text.slice(f.from, f.to));
    return [text.slice(f.from, f.to), f.kind, f.value];
  });
}

describe("detectFacets", () => {
  it("gives UTF-8 byte offsets past emoji and Devanagari", () => {
    const text = "नमस्ते 👋🏽 @alice.test see https://example.com/a?b=c. #हिंदी #rust!";
    expect(spans(text)).toEqual([
      ["@alice.test", "mention", "alice.test"],
      ["https://example.com/a?b=c", "link", "https://example.com/a?b=c"],
      ["#हिंदी", "tag", "हिंदी"],
      ["#rust", "tag", "rust"],
    ]);
    // "नमस्ते " is 19 bytes and "👋🏽 " 9, though only 7 and 5 string indices.
    expect(detectFacets(text)[0]).toMatchObject({ start: 28, end: 39, from: 12, to: 23 });
  });

  it("links bare domains with a known ending, adding https://", () => {
    expect(spans("read example.com/x, or bsky.app")).toEqual([
      ["example.com/x", "link", "https://example.com/x"],
      ["bsky.app", "link", "https://bsky.app"],
    ]);
    expect(detectFacets("node.js and file.txt and e.g")).toEqual([]);
    // `.test` is for handles only.
    expect(detectFacets("see alice.test")).toEqual([]);
  });

  it("leaves a sentence's punctuation and a bracket the link did not open outside it", () => {
    expect(spans("(see https://example.com/page)")).toEqual([
      ["https://example.com/page", "link", "https://example.com/page"],
    ]);
    expect(spans("go to example.org!")[0]).toEqual(["example.org", "link", "https://example.org"]);
    expect(spans("https://en.wikipedia.org/wiki/Rust_(language)")[0][0]).toBe(
      "https://en.wikipedia.org/wiki/Rust_(language)",
    );
    expect(spans("#tag… and #done.")).toEqual([
      ["#tag", "tag", "tag"],
      ["#done", "tag", "done"],
    ]);
  });

  it("finds no address, number, keycap or bare word", () => {
    expect(detectFacets("mail bob@example.org about #1 and #️⃣ or @bob")).toEqual([]);
    expect(detectFacets(`#${"a".repeat(65)}`)).toEqual([]);
    expect(spans(`＃${"a".repeat(64)}`)[0][1]).toBe("tag");
  });

  it("never overlaps: the first to start wins", () => {
    const found = detectFacets("https://example.com/#tag @a.test #x https://b.org");
    expect(found.map((f) => f.kind)).toEqual(["link", "mention", "tag", "link"]);
    for (let i = 1; i < found.length; i++) expect(found[i - 1].end).toBeLessThanOrEqual(found[i].start);
  });
});
