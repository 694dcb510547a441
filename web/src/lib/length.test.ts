import { describe, expect, it } from "vitest";
import { countedUnits, limitIndex, textLength, tooLong, usage } from "./length";

// Mastodon's rules, as GET /api/v1/platforms gives them (less `media`).
const mastodon = { max_chars: 30, unit: "graphemes" as const, max_bytes: null, url_weight: 23 };
const longLink = `https://example.com/${"a".repeat(200)}`;

describe("textLength", () => {
  // The cases of `links_count_as_a_fixed_length_and_remote_mentions_as_the_username` in src/adapters/mod.rs.
  it("counts every link as url_weight characters and @user@server as @user, as the server does", () => {
    expect(textLength(`see ${longLink}`, mastodon)).toBe(27);
    expect(textLength("hi @alice@mastodon.social", mastodon)).toBe("hi @alice".length);
    expect(textLength("mail bob@example.com", mastodon)).toBe(20);
    expect(tooLong(`see ${longLink} ok`, mastodon)).toBe(false);
    expect(tooLong(`${longLink} ${longLink}`, mastodon)).toBe(true);
    const plain = { ...mastodon, url_weight: null };
    expect(textLength("https://example.com/abc", plain)).toBe(23);
    expect(textLength("https://example.com/abcd", plain)).toBe(24);
  });

  it("counts links and mentions as written where the platform has no url_weight", () => {
    expect(textLength(`see ${longLink}`, { max_chars: 300, unit: "graphemes" })).toBe(4 + longLink.length);
    expect(textLength("hi @alice@mastodon.social", { max_chars: 300 })).toBe(25);
  });

  it("matches only lower-case schemes and stops a link at any Unicode space", () => {
    expect(textLength("http://a.example", mastodon)).toBe(23);
    expect(textLength("HTTPS://a.example", mastodon)).toBe(17);
    expect(textLength("https://a.example\u3000next", mastodon)).toBe(23 + 1 + 4);
  });

  it("takes mentions at the start, after punctuation and several in a row, and keeps emoji as graphemes", () => {
    expect(textLength("@hal@fosstodon.org", mastodon)).toBe(4);
    expect(textLength("(@ada@a.example, @bob@b.example.)", mastodon)).toBe("(@ada, @bob.)".length);
    expect(textLength("👋🏽 @ada@a.example", mastodon)).toBe(1 + 1 + 4);
    expect(textLength("👋🏽", { ...mastodon, unit: "characters" })).toBe(2);
    // Not a mention: an address, or @ inside a word.
    expect(textLength("x@ada@a.example", mastodon)).toBe(15);
  });

  it("measures the bytes of what is written, not of what is counted", () => {
    const rules = { ...mastodon, max_chars: 100, max_bytes: 40 };
    expect(tooLong(`see ${longLink}`, rules)).toBe(true);
    expect(tooLong("see you", rules)).toBe(false);
  });
});

describe("limitIndex", () => {
  it("cuts a link that does not fit whole at its start", () => {
    const text = `see ${longLink} ok`;
    expect(limitIndex(text, { ...mastodon, max_chars: 20 })).toBe(4);
    expect(limitIndex(text, { ...mastodon, max_chars: 28 })).toBe(text.length - 2);
    expect(limitIndex(text, mastodon)).toBeNull();
  });

  it("keeps a remote mention's server with its user", () => {
    const text = "hi @alice@mastodon.social ok";
    expect(limitIndex(text, { ...mastodon, max_chars: 9 })).toBe(text.indexOf(" ok"));
    expect(limitIndex(text, { ...mastodon, max_chars: 5 })).toBe(5);
  });

  it("maps each counted unit back to the text", () => {
    const units = countedUnits("a https://x.example b", { ...mastodon, url_weight: 2 });
    expect(units).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
      { from: 2, to: 2 },
      { from: 2, to: 19 },
      { from: 19, to: 20 },
      { from: 20, to: 21 },
    ]);
  });
});

describe("usage", () => {
  const matrix = { max_chars: 30000, unit: "characters" as const, max_bytes: 30000 };

  it("reads in characters, with thousands marked", () => {
    expect(usage("hello", matrix)).toBe("5 / 30,000");
    expect(usage("a".repeat(30001), matrix)).toBe("30,001 / 30,000");
    expect(usage("hello", mastodon)).toBe("5 / 30");
  });

  it("reads in bytes where those run out first", () => {
    expect(usage("héllo", matrix)).toBe("6 / 30,000 bytes");
    // Bluesky: 300 graphemes or 3,000 bytes; a family emoji is one grapheme of 25 bytes.
    const bluesky = { max_chars: 300, unit: "graphemes" as const, max_bytes: 3000 };
    expect(usage("héllo 👋🏽", bluesky)).toBe("7 / 300");
    expect(usage("👨‍👩‍👧‍👦", bluesky)).toBe("25 / 3,000 bytes");
  });
});
