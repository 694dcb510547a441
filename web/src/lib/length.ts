// A post's length as each platform counts it, by the same rules as the server
// (`ContentRules::length` in src/adapters/mod.rs): code points or graphemes,
// and where a platform gives `url_weight` (Mastodon), every link counts as that
// many characters however long it is and a mention of `@user@server` as
// `@user`. The patterns spell out Unicode whitespace and word characters
// because JavaScript's \s and \w are not the Rust regex crate's.

/** What a platform counts: code points, or user-perceived characters (👍🏽 is one). */
export type TextUnit = "characters" | "graphemes";

/** The text limits of a platform, or of one connection where its server sets its own. */
export interface TextRules {
  /** Longest post, counted in `unit`. */
  max_chars: number;
  unit?: TextUnit;
  /** Longest post in UTF-8 bytes, where the platform also limits those. */
  max_bytes?: number | null;
  /** Every link counts as this many characters, and `@user@server` as `@user`; null: as written. */
  url_weight?: number | null;
}

/** Characters as the platforms count them: Unicode scalar values. */
export function charCount(text: string): number {
  return Array.from(text).length;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** `text`'s length as a platform with `unit` counts it (links and mentions as written). */
export function countText(text: string, unit: TextUnit = "characters"): number {
  if (unit === "characters") return charCount(text);
  let n = 0;
  for (const _ of graphemes.segment(text)) n += 1;
  return n;
}

const SPACE = String.raw`\p{White_Space}`;
// Rust's Unicode `\w`.
const WORD = String.raw`\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`;
// `https?://\S+`
const LINK = new RegExp(String.raw`https?://[^${SPACE}]+`, "gu");
// `(^|[^\w@])@(\w+)@[\w.-]+\w`
const REMOTE_MENTION = new RegExp(String.raw`(^|[^${WORD}@])@([${WORD}]+)@[${WORD}.\-]+[${WORD}]`, "gu");

/** Text as the platform counts it, with where each UTF-16 unit came from in the original (one more at the end). */
interface Mapped {
  text: string;
  origin: number[];
}

/** Replaces every match of `pattern` (its `from`..`to`, in the text) with `insert`, keeping track of the origins. */
function substitute(
  input: Mapped,
  pattern: RegExp,
  edit: (m: RegExpExecArray) => { from: number; to: number; insert: string },
): Mapped {
  let text = "";
  let origin: number[] = [];
  let last = 0;
  for (const m of input.text.matchAll(pattern)) {
    const { from, to, insert } = edit(m as RegExpExecArray);
    text += input.text.slice(last, from) + insert;
    // What stands in for a link comes from where the link starts.
    origin = origin.concat(input.origin.slice(last, from), new Array<number>(insert.length).fill(input.origin[from]));
    last = to;
  }
  text += input.text.slice(last);
  origin = origin.concat(input.origin.slice(last));
  return { text, origin };
}

/** The text the platform counts, as `ContentRules::length` rewrites it. */
function counted(text: string, rules: TextRules): Mapped {
  const identity: Mapped = { text, origin: Array.from({ length: text.length + 1 }, (_, i) => i) };
  const weight = rules.url_weight;
  if (weight == null) return identity;
  const linked = substitute(identity, LINK, (m) => ({
    from: m.index,
    to: m.index + m[0].length,
    insert: "x".repeat(weight),
  }));
  // `$1@$2`: what is kept is the start of the match; `@server` goes.
  return substitute(linked, REMOTE_MENTION, (m) => ({
    from: m.index + m[1].length + 1 + m[2].length,
    to: m.index + m[0].length,
    insert: "",
  }));
}

/** One counted unit (a character or a grapheme) as a span of the original text; a link's are all at its start but the last. */
export interface CountedUnit {
  from: number;
  to: number;
}

/** Every unit the platform counts, in order. */
export function countedUnits(text: string, rules: TextRules): CountedUnit[] {
  const { text: seen, origin } = counted(text, rules);
  const bounds: number[] = [];
  if (rules.unit === "graphemes") {
    for (const s of graphemes.segment(seen)) bounds.push(s.index);
  } else {
    let i = 0;
    for (const c of seen) {
      bounds.push(i);
      i += c.length;
    }
  }
  bounds.push(seen.length);
  return bounds.slice(1).map((end, i) => ({ from: origin[bounds[i]], to: origin[end] }));
}

/** `text`'s length as a platform with `rules` counts it. */
export function textLength(text: string, rules: TextRules): number {
  const { text: seen } = counted(text, rules);
  return countText(seen, rules.unit);
}

const utf8 = new TextEncoder();

export function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/**
 * A counter's reading, `used / limit`: of characters, or of bytes where those
 * run out first (a Matrix post of non-Latin text nears 30,000 bytes before
 * 30,000 characters).
 */
export function usage(text: string, rules: TextRules): string {
  const of = (n: number, max: number) => `${n.toLocaleString("en")} / ${max.toLocaleString("en")}`;
  const chars = textLength(text, rules);
  if (rules.max_bytes != null) {
    const bytes = byteLength(text);
    if (bytes / rules.max_bytes > chars / rules.max_chars) return `${of(bytes, rules.max_bytes)} bytes`;
  }
  return of(chars, rules.max_chars);
}

/** Whether `text` is past the platform's limit: too many characters, or too many bytes. */
export function tooLong(text: string, rules: TextRules): boolean {
  return textLength(text, rules) > rules.max_chars || (rules.max_bytes != null && byteLength(text) > rules.max_bytes);
}

/** UTF-8 bytes of `text.slice(0, i)` for every `i` from 0 to `text.length`. */
function bytePrefixes(text: string): number[] {
  const prefix = [0];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    let bytes: number;
    if (unit < 0x80) bytes = 1;
    else if (unit < 0x800) bytes = 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
      // A surrogate pair: four bytes, counted at its second half.
      prefix.push(prefix[i]);
      prefix.push(prefix[i] + 4);
      i += 1;
      continue;
    } else bytes = 3; // Also a lone surrogate, sent as U+FFFD.
    prefix.push(prefix[i] + bytes);
  }
  return prefix;
}

/**
 * The string index where `text` passes the limit: the start of the first unit
 * past `max_chars` (a link that does not fit whole, from its start), or of the
 * one whose bytes pass `max_bytes`; null if it fits.
 */
export function limitIndex(text: string, rules: TextRules): number | null {
  const bytes = rules.max_bytes != null ? bytePrefixes(text) : null;
  for (const [n, unit] of countedUnits(text, rules).entries()) {
    if (n >= rules.max_chars || (bytes !== null && bytes[unit.to] > (rules.max_bytes as number))) return unit.from;
  }
  return null;
}
