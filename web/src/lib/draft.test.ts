import { afterEach, describe, expect, it } from "vitest";
import { readDraft, saveDraft } from "./draft";

const KEY = "prasaran:compose-draft:u1";

afterEach(() => localStorage.clear());

describe("the local draft", () => {
  it("keeps the accounts' own texts and the server draft it is saved as", () => {
    saveDraft(KEY, {
      content: "hello",
      connectionIds: ["c1"],
      when: "now",
      variations: { c1: "hi, Manch" },
      serverDraftId: "d1",
    });
    expect(readDraft(KEY)).toEqual({
      content: "hello",
      connectionIds: ["c1"],
      when: "now",
      variations: { c1: "hi, Manch" },
      serverDraftId: "d1",
    });
  });

  it("drops what is not text from a kept record, and leaves out an empty one", () => {
    localStorage.setItem(
      KEY,
      JSON.stringify({ content: "hello", connectionIds: [], when: "now", variations: { c1: 5, c2: "ok" }, serverDraftId: 7 }),
    );
    expect(readDraft(KEY)).toEqual({ content: "hello", connectionIds: [], when: "now", variations: { c2: "ok" } });
    saveDraft(KEY, { content: "hello", variations: {} });
    expect(JSON.parse(localStorage.getItem(KEY)!)).not.toHaveProperty("variations");
  });
});
