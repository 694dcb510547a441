// Long posts in lists: the first few lines, cut at a word, with a way to read
// the rest in place. Cut by text rather than by CSS line clamping, so "more"
// is offered exactly when something is hidden, whatever the screen's width.

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** What a list shows of a post before "more": at most this many characters… */
export const SHORT_CHARS = 280;
/** …and this many lines. */
export const SHORT_LINES = 4;

/**
 * The start of `text` a list shows, ending in "…"; null when the whole text
 * fits. Cut between user-perceived characters (never inside an emoji), and
 * at the last space before the limit where there is one not too far back.
 */
export function shorten(text: string, maxChars: number = SHORT_CHARS, maxLines: number = SHORT_LINES): string | null {
  const trimmed = text.trimEnd();
  const lines = trimmed.split("\n");
  let head = lines.length > maxLines ? lines.slice(0, maxLines).join("\n") : trimmed;
  const parts = Array.from(graphemes.segment(head), (s) => s.segment);
  if (parts.length > maxChars) {
    head = parts.slice(0, maxChars).join("");
    const space = head.search(/\s\S*$/);
    if (space > head.length * 0.6) head = head.slice(0, space);
  }
  if (head === trimmed) return null;
  return `${head.trimEnd()}…`;
}
