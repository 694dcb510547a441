import { describe, expect, it } from "vitest";
import { charCount, composeSchema, countText, credentialsSchema, toRfc3339WithOffset } from "./schemas";

describe("credentials", () => {
  it("mirrors the server's rules", () => {
    expect(credentialsSchema.safeParse({ email: "ada@example.com", password: "correct horse" }).success).toBe(true);
    const short = credentialsSchema.safeParse({ email: "ada@example.com", password: "short" });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0].message).toMatch(/12 characters/);
    expect(credentialsSchema.safeParse({ email: "not an email", password: "correct horse" }).success).toBe(false);
    expect(credentialsSchema.safeParse({ email: "a@b.co", password: " ".repeat(13) }).success).toBe(false);
  });
});

describe("compose", () => {
  it("needs content, a target, and a future time when scheduling", () => {
    const base = { content: "hi", connectionIds: ["c1"], when: "now" as const };
    expect(composeSchema.safeParse(base).success).toBe(true);
    expect(composeSchema.safeParse({ ...base, content: "   " }).success).toBe(false);
    expect(composeSchema.safeParse({ ...base, connectionIds: [] }).success).toBe(false);
    expect(composeSchema.safeParse({ ...base, when: "later", scheduledAt: "2000-01-01T10:00" }).success).toBe(false);
    expect(composeSchema.safeParse({ ...base, when: "later", scheduledAt: "2999-01-01T10:00" }).success).toBe(true);
  });

  it("refuses an empty own text for a chosen account, and ignores one for an account not chosen", () => {
    const base = { content: "hi", connectionIds: ["c1"], when: "now" as const };
    expect(composeSchema.safeParse({ ...base, variations: { c1: "hello there" } }).success).toBe(true);
    const empty = composeSchema.safeParse({ ...base, variations: { c1: "  " } });
    expect(empty.success).toBe(false);
    expect(empty.error?.issues[0].path).toEqual(["variations"]);
    expect(composeSchema.safeParse({ ...base, variations: { c2: "" } }).success).toBe(true);
  });
});

describe("helpers", () => {
  it("counts characters as platforms do, not UTF-16 units", () => {
    expect(charCount("héllo")).toBe(5);
    expect(charCount("👋🏽")).toBe(2);
    // As a grapheme-counting platform (Bluesky) counts: one each.
    expect(countText("👋🏽", "graphemes")).toBe(1);
    expect(countText("क्षि!", "graphemes")).toBe(2);
    expect(countText("क्षि!", "characters")).toBe(5);
    expect(countText("abc")).toBe(3);
    expect("👋🏽".length).toBe(4);
  });

  it("adds the browser's offset to a local date-time", () => {
    expect(toRfc3339WithOffset("2026-12-01T09:00")).toMatch(/^2026-12-01T09:00:00[+-]\d\d:\d\d$/);
    const at = toRfc3339WithOffset("2026-12-01T09:00");
    expect(new Date(at).getTime()).toBe(new Date("2026-12-01T09:00").getTime());
  });
});
