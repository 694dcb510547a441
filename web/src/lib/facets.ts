// Rich-text facets as Bluesky's app finds them (`detectFacets` in
// @atproto/api), by the same rules as the server (src/adapters/bluesky/facets.rs),
// so the preview highlights exactly what the post will link. The patterns spell
// out Unicode whitespace, digits and word characters because JavaScript's \s,
// \d and \b are not the Rust regex crate's.

export type FacetKind = "link" | "mention" | "tag";

export interface Facet {
  /** UTF-8 byte offsets, end exclusive: the record's `index.byteStart/byteEnd`. */
  start: number;
  end: number;
  /** The same span as string (UTF-16) indices, for rendering. */
  from: number;
  to: number;
  kind: FacetKind;
  /** The link's URI, the handle without `@`, or the tag without `#`. */
  value: string;
}

const SPACE = String.raw`\p{White_Space}`;
const WORD = String.raw`[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]`;
const BOUNDARY = `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;
const MENTION = new RegExp(String.raw`(?:^|${SPACE}|\()@([a-zA-Z0-9.-]+)${BOUNDARY}`, "gu");
const LINK = new RegExp(
  String.raw`(?:^|${SPACE}|\()((?:https?://[^${SPACE}]+)|(?:(?<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)[^${SPACE}]*))`,
  "gimu",
);
// Whitespace and the invisible joiners and hyphens Bluesky's pattern excludes.
const NOT_IN_TAG = String.raw`${SPACE}\u00AD\u2060\u200A\u200B\u200C\u200D\u20E2`;
const TAG = new RegExp(
  String.raw`(?:^|${SPACE})([#＃])([^${NOT_IN_TAG}]*[^\p{Nd}${NOT_IN_TAG}\p{P}]+[^${NOT_IN_TAG}]*)`,
  "gu",
);
// Rust's `is_ascii_punctuation` (which includes symbols such as `$` and `~`) or Unicode punctuation.
const TRAILING_PUNCTUATION = /^[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]$/u;
const MAX_TAG_CHARS = 64;

// Bluesky checks against the full IANA list; the server keeps these, so a rare
// generic ending written without `https://` stays plain text on both.
const COUNTRY_TLDS = new Set(
  "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw".split(
    " ",
  ),
);
const GENERIC_TLDS = new Set(
  "com org net edu gov mil int info biz name pro app dev io ai social blog news xyz online site tech store cloud page art design space live media network world today email".split(
    " ",
  ),
);

// Only ASCII, as Rust's `to_ascii_lowercase`: `toLowerCase` would turn the Kelvin sign into `k`.
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function validDomain(domain: string, allowTest: boolean): boolean {
  const labels = domain.split(".");
  const tld = asciiLower(labels[labels.length - 1]);
  return (
    labels.length > 1 &&
    labels.every((label) => label !== "") &&
    ((tld.length === 2 && COUNTRY_TLDS.has(tld)) || GENERIC_TLDS.has(tld) || (allowTest && tld === "test"))
  );
}

type Span = Omit<Facet, "start" | "end">;

function mentions(text: string): Span[] {
  return Array.from(text.matchAll(MENTION), (m) => {
    const handle = m[1];
    const to = m.index + m[0].length;
    // Handles on a development PDS end in `.test`, as Bluesky's app allows.
    return validDomain(handle, true) ? [{ from: to - handle.length - 1, to, kind: "mention" as const, value: handle }] : [];
  }).flat();
}

function links(text: string): Span[] {
  const found: Span[] = [];
  for (const m of text.matchAll(LINK)) {
    let uri = m[1];
    const from = m.index + m[0].length - uri.length;
    let to = m.index + m[0].length;
    if (!asciiLower(uri).startsWith("http")) {
      if (!validDomain(m.groups?.domain ?? "", false)) continue;
      uri = `https://${uri}`;
    }
    // A sentence's full stop (or a closing bracket it did not open) is not the link's.
    if (/[.,;:!?]$/.test(uri)) {
      uri = uri.slice(0, -1);
      to -= 1;
    }
    if (uri.endsWith(")") && !uri.includes("(")) {
      uri = uri.slice(0, -1);
      to -= 1;
    }
    found.push({ from, to, kind: "link", value: uri });
  }
  return found;
}

function tags(text: string): Span[] {
  const found: Span[] = [];
  for (const m of text.matchAll(TAG)) {
    const body = m[2];
    // A keycap (#️⃣) is an emoji, not a tag.
    if (body.startsWith("\uFE0F")) continue;
    const chars = Array.from(body);
    while (chars.length > 0 && TRAILING_PUNCTUATION.test(chars[chars.length - 1])) chars.pop();
    if (chars.length === 0 || chars.length > MAX_TAG_CHARS) continue;
    const tag = chars.join("");
    const from = m.index + m[0].length - body.length - 1;
    found.push({ from, to: from + 1 + tag.length, kind: "tag", value: tag });
  }
  return found;
}

/** Every link, mention and tag in `text`, in order, none overlapping. */
export function detectFacets(text: string): Facet[] {
  const spans = [...mentions(text), ...links(text), ...tags(text)].sort((a, b) => a.from - b.from || a.to - b.to);
  const encoder = new TextEncoder();
  const bytes = (index: number) => encoder.encode(text.slice(0, index)).length;
  const kept: Facet[] = [];
  for (const span of spans) {
    // Facets may not overlap: the first to start wins.
    const last = kept[kept.length - 1];
    if (last && span.from < last.to) continue;
    kept.push({ ...span, start: bytes(span.from), end: bytes(span.to) });
  }
  return kept;
}
