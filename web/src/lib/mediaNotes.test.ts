import { describe, expect, it } from "vitest";
import type { MediaRules } from "../api/types";
import { formatBytes, formatDuration, mediaNotes, type AttachmentFacts } from "./mediaNotes";

const MiB = 1024 * 1024;
// Manch's rules, as GET /api/v1/platforms gives them.
const manch: MediaRules = {
  max_count: 4,
  max_image_bytes: 8 * MiB,
  max_video_bytes: 200 * MiB,
  types: ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
  video_alone: true,
  alt_text_required: false,
  video_codecs: [],
};

const png = (fields: Partial<AttachmentFacts> = {}): AttachmentFacts => ({
  kind: "image",
  mime: "image/png",
  bytes: 1000,
  alt_text: "",
  ...fields,
});
const mp4 = (fields: Partial<AttachmentFacts> = {}): AttachmentFacts => ({
  kind: "video",
  mime: "video/mp4",
  bytes: 5 * MiB,
  alt_text: "",
  ...fields,
});

describe("mediaNotes", () => {
  it("has nothing to say without attachments or within the rules", () => {
    expect(mediaNotes("Manch", manch, [])).toEqual([]);
    expect(mediaNotes("Manch", manch, [png(), png(), png(), png()])).toEqual([]);
    expect(mediaNotes("Manch", manch, [mp4()])).toEqual([]);
  });

  it("counts attachments against the platform's most", () => {
    expect(mediaNotes("Manch", manch, [png(), png(), png(), png(), png()])).toEqual([
      { level: "error", text: "Manch takes at most 4 attachments (you have 5)." },
    ]);
    expect(mediaNotes("Solo", { ...manch, max_count: 1 }, [png(), png()])[0].text).toBe(
      "Solo takes at most 1 attachment (you have 2).",
    );
  });

  it("refuses every attachment where the platform takes none", () => {
    expect(mediaNotes("Plain", { ...manch, max_count: 0 }, [png()])).toEqual([
      { level: "error", text: "Plain takes no attachments; remove them or leave Plain out." },
    ]);
  });

  it("wants a video alone when the platform says so", () => {
    expect(mediaNotes("Manch", manch, [png(), mp4()])).toEqual([
      { level: "error", text: "Manch: a video must be the only attachment." },
    ]);
    expect(mediaNotes("Other", { ...manch, video_alone: false }, [png(), mp4()])).toEqual([]);
  });

  it("names a type the platform does not take, and which attachment", () => {
    const notes = mediaNotes("Narrow", { ...manch, types: ["image/jpeg", "image/png"] }, [png(), png({ kind: "gif", mime: "image/gif" })]);
    expect(notes).toEqual([
      { level: "error", text: "Narrow does not take image/gif (attachment 2); it takes JPEG, PNG." },
    ]);
  });

  it("checks sizes: GIFs and videos go as uploaded, so over the limit is an error", () => {
    expect(mediaNotes("Manch", manch, [mp4({ bytes: 201 * MiB })])).toEqual([
      { level: "error", text: "Manch: attachment 1 is 201 MiB; Manch takes videos up to 200 MiB." },
    ]);
    expect(mediaNotes("Manch", manch, [png({ kind: "gif", mime: "image/gif", bytes: 9.5 * MiB })])).toEqual([
      { level: "error", text: "Manch: attachment 1 is 9.5 MiB; Manch takes images up to 8 MiB." },
    ]);
  });

  it("only warns about a still image over the limit: the platform gets a smaller JPEG copy", () => {
    expect(mediaNotes("Manch", manch, [png(), png({ mime: "image/jpeg", bytes: 9.5 * MiB })])).toEqual([
      {
        level: "warning",
        text: "Manch: attachment 2 is 9.5 MiB; Manch takes images up to 8 MiB, so it gets a smaller JPEG copy.",
      },
    ]);
  });

  it("asks for alt text on every image (not videos) where required", () => {
    const strict = { ...manch, alt_text_required: true, video_alone: false };
    expect(mediaNotes("Strict", strict, [png({ alt_text: "a cat" }), png({ alt_text: "  " }), mp4(), png()])).toEqual([
      { level: "error", text: "Strict needs alt text on every image (missing on attachments 2 and 4)." },
    ]);
    expect(mediaNotes("Strict", strict, [png()])[0].text).toBe(
      "Strict needs alt text on every image (missing on attachment 1).",
    );
    expect(mediaNotes("Strict", strict, [png({ alt_text: "a cat" }), mp4()])).toEqual([]);
    expect(mediaNotes("Manch", manch, [png()])).toEqual([]);
  });

  it("checks pixels, video length and codec where the platform limits them", () => {
    const strict: MediaRules = { ...manch, max_pixels: 4_000_000, max_video_duration_ms: 60_000, video_codecs: ["h264"] };
    expect(mediaNotes("Strict", strict, [png({ width: 2000, height: 2000 })])).toEqual([]);
    const big = mediaNotes("Strict", strict, [png({ width: 3000, height: 2000 })]);
    expect(big.map((n) => n.text)).toEqual(["Strict: attachment 1 is 3000 × 2000 pixels; Strict takes at most 4,000,000."]);
    const long = mediaNotes("Strict", strict, [mp4({ duration_ms: 61_000, codec: "h264", width: 320, height: 240 })]);
    expect(long.map((n) => n.text)).toEqual(["Strict: attachment 1 lasts 1:01; Strict takes videos up to 1:00."]);
    const vp9 = mediaNotes("Strict", strict, [mp4({ duration_ms: 1_000, codec: "vp9", width: 320, height: 240 })]);
    expect(vp9).toEqual([{ level: "error", text: "Strict plays h264 video; attachment 1 is vp9." }]);
    expect(mediaNotes("Manch", manch, [mp4({ codec: "vp9" })])).toEqual([]);
  });

  it("says every broken rule at once", () => {
    const notes = mediaNotes("Manch", { ...manch, alt_text_required: true }, [png(), png(), png(), png(), mp4()]);
    expect(notes.map((n) => n.text)).toEqual([
      "Manch takes at most 4 attachments (you have 5).",
      "Manch: a video must be the only attachment.",
      "Manch needs alt text on every image (missing on attachments 1, 2, 3 and 4).",
    ]);
  });
});

describe("formatting", () => {
  it("writes sizes in binary units", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(2048)).toBe("2 KiB");
    expect(formatBytes(8 * MiB)).toBe("8 MiB");
    expect(formatBytes(9.5 * MiB)).toBe("9.5 MiB");
  });

  it("writes durations as a clock", () => {
    expect(formatDuration(1000)).toBe("0:01");
    expect(formatDuration(72_400)).toBe("1:12");
    expect(formatDuration(3_723_000)).toBe("1:02:03");
  });
});
