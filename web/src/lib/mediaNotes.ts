// What a platform will say about a post's attachments, before publishing:
// the composer's reading of `rules.media` (the server checks the same rules at
// accept, in src/adapters/mod.rs, and answers 422 `media_rejected`).
import type { MediaKind, MediaRules } from "../api/types";

export interface MediaNote {
  /** An error blocks publishing; a warning only informs. */
  level: "error" | "warning";
  text: string;
}

/** One attachment as the rules see it; `alt_text` is what the user typed. */
export interface AttachmentFacts {
  kind: MediaKind;
  mime: string;
  bytes: number;
  alt_text: string;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
  codec?: string | null;
}

/** Every rule `media` breaks on one platform, in the order they are attached. */
export function mediaNotes(platform: string, rules: MediaRules, media: AttachmentFacts[]): MediaNote[] {
  const notes: MediaNote[] = [];
  const error = (text: string) => notes.push({ level: "error", text });
  if (media.length === 0) return notes;
  if (rules.max_count === 0) {
    error(`${platform} takes no attachments; remove them or leave ${platform} out.`);
    return notes;
  }
  if (media.length > rules.max_count) {
    error(`${platform} takes at most ${plural(rules.max_count, "attachment")} (you have ${media.length}).`);
  }
  if (rules.video_alone && media.length > 1 && media.some((m) => m.kind === "video")) {
    error(`${platform}: a video must be the only attachment.`);
  }
  media.forEach((m, i) => {
    const which = `attachment ${i + 1}`;
    if (!rules.types.includes(m.mime)) {
      error(`${platform} does not take ${m.mime} (${which}); it takes ${rules.types.map(shortType).join(", ")}.`);
      return;
    }
    const video = m.kind === "video";
    if (rules.max_pixels != null && m.width != null && m.height != null && m.width * m.height > rules.max_pixels) {
      error(`${platform}: ${which} is ${m.width} × ${m.height} pixels; ${platform} takes at most ${rules.max_pixels.toLocaleString("en")}.`);
    }
    if (video && rules.max_video_duration_ms != null && m.duration_ms != null && m.duration_ms > rules.max_video_duration_ms) {
      error(`${platform}: ${which} lasts ${formatDuration(m.duration_ms)}; ${platform} takes videos up to ${formatDuration(rules.max_video_duration_ms)}.`);
    }
    const codecs = rules.video_codecs ?? [];
    if (video && codecs.length > 0 && !codecs.includes(m.codec ?? "")) {
      error(`${platform} plays ${codecs.join(", ")} video; ${which} is ${m.codec ?? "of an unknown codec"}.`);
    }
    const limit = video ? rules.max_video_bytes : rules.max_image_bytes;
    if (m.bytes > limit) {
      const text = `${platform}: ${which} is ${formatBytes(m.bytes)}; ${platform} takes ${video ? "videos" : "images"} up to ${formatBytes(limit)}`;
      // GIFs and videos go as uploaded. A still image too large for a
      // platform is not refused: the server sends it a JPEG copy that fits.
      if (m.kind === "image") {
        notes.push({ level: "warning", text: `${text}, so it gets a smaller JPEG copy.` });
      } else {
        error(`${text}.`);
      }
    }
  });
  if (rules.alt_text_required) {
    const missing = media.flatMap((m, i) => (m.kind !== "video" && m.alt_text.trim() === "" ? [i + 1] : []));
    if (missing.length > 0) {
      const where = missing.length === 1 ? `attachment ${missing[0]}` : `attachments ${listed(missing)}`;
      error(`${platform} needs alt text on every image (missing on ${where}).`);
    }
  }
  return notes;
}

/** `8388608` → `8 MiB`, `9961472` → `9.5 MiB`, `2048` → `2 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${units[unit]}`;
}

/** `12345` ms → `0:12`; `3723000` → `1:02:03`. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function listed(numbers: number[]): string {
  return numbers.length === 1
    ? String(numbers[0])
    : `${numbers.slice(0, -1).join(", ")} and ${numbers[numbers.length - 1]}`;
}

/** `image/jpeg` → `JPEG`, `video/mp4` → `MP4`. */
function shortType(mime: string): string {
  return (mime.split("/")[1] ?? mime).toUpperCase();
}
