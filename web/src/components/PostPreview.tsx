// The post as one platform will show it: Bluesky's links, mentions and tags
// highlighted, and whatever lies past the platform's limit struck out, counted
// as the platform counts (a Mastodon link at its fixed weight, see lib/length).
import type { Media } from "../api/types";
import { detectFacets, type Facet } from "../lib/facets";
import { byteLength, limitIndex, textLength, type TextRules } from "../lib/length";
import { Card } from "./ui";

/** The limits the preview cuts at: the platform's, or the connection's own. */
export type PreviewRules = TextRules;

/** An attachment, with the alt text as typed (`thumbnail_url` is null for a video). */
export type PreviewMedia = Pick<Media, "kind" | "thumbnail_url" | "alt_text">;

interface Props {
  platformId: string;
  /** The platform's name, or the account's (`Mastodon @hal@fosstodon.org`) for a connection with its own limits. */
  platformName: string;
  /** Set for one connection's preview (its own limits): `preview-{platformId}-{connectionId}`. */
  connectionId?: string;
  rules: PreviewRules;
  text: string;
  /** A content warning shown before the post, counted with it (Mastodon: `warning + text`). */
  warning?: string;
  media?: PreviewMedia[];
}

/** How far past the limit, counted as the platform counts (links at their weight). */
function overNote(text: string, rules: PreviewRules): string {
  const chars = textLength(text, rules) - rules.max_chars;
  const [n, what] = chars > 0 ? [chars, "character"] : [byteLength(text) - (rules.max_bytes ?? 0), "byte"];
  return `${n.toLocaleString("en")} ${what}${n === 1 ? "" : "s"} over`;
}

/** Bluesky's app shows a link as its host and the start of its path (`toShortUrl`). */
export function shortUrl(uri: string): string {
  try {
    const url = new URL(uri);
    const path = (url.pathname === "/" ? "" : url.pathname) + url.search + url.hash;
    return url.host + (path.length > 15 ? `${path.slice(0, 13)}…` : path);
  } catch {
    return uri;
  }
}

interface Piece {
  from: number;
  to: number;
  facet?: Facet;
  over: boolean;
}

/** The text cut at every facet's ends and at the limit. */
function pieces(text: string, facets: Facet[], limit: number | null): Piece[] {
  const cuts = new Set([0, text.length, ...facets.flatMap((f) => [f.from, f.to])]);
  if (limit !== null) cuts.add(limit);
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.slice(1).map((to, i) => {
    const from = sorted[i];
    const facet = facets.find((f) => f.from <= from && to <= f.to);
    return { from, to, facet, over: limit !== null && from >= limit };
  });
}

function Segment({ text, piece }: { text: string; piece: Piece }) {
  const { facet } = piece;
  let shown = text.slice(piece.from, piece.to);
  // A link cut by the limit keeps its full text, so the cut shows where it falls.
  if (facet?.kind === "link" && piece.from === facet.from && piece.to === facet.to) shown = shortUrl(facet.value);
  const body = facet ? (
    <span className="text-sky-600" title={facet.kind === "link" ? facet.value : undefined}>
      {shown}
    </span>
  ) : (
    shown
  );
  return piece.over ? <del className="bg-red-50 text-red-700 line-through decoration-red-600">{body}</del> : <>{body}</>;
}

export function PostPreview({ platformId, platformName, connectionId, rules, text, warning = "", media = [] }: Props) {
  const facets = platformId === "bluesky" ? detectFacets(text) : [];
  // The warning comes first in what is counted: where it alone is too long,
  // all of the text is past the limit.
  const counted = warning + text;
  const cut = limitIndex(counted, rules);
  const limit = cut === null ? null : Math.max(0, cut - warning.length);
  return (
    <Card
      aria-label={`Preview on ${platformName}`}
      data-testid={connectionId ? `preview-${platformId}-${connectionId}` : `preview-${platformId}`}
      className="p-4"
    >
      <p className="mb-2 text-xs font-medium uppercase tracking-wide text-slate-500">{platformName}</p>
      {warning && (
        <p className="mb-2 rounded bg-amber-50 px-2 py-1 text-sm font-medium text-amber-900" data-testid="preview-warning">
          CW: {warning}
        </p>
      )}
      <p className="whitespace-pre-wrap break-words text-sm text-slate-900">
        {pieces(text, facets, limit).map((piece) => (
          <Segment key={piece.from} text={text} piece={piece} />
        ))}
      </p>
      {media.length > 0 && (
        <ul className="mt-3 flex flex-wrap gap-2" aria-label="Attachments">
          {media.map((m, i) => (
            <li key={i}>
              {m.thumbnail_url ? (
                <img src={m.thumbnail_url} alt={m.alt_text} className="h-16 w-16 rounded bg-slate-100 object-cover" />
              ) : (
                <span className="flex h-16 w-16 items-center justify-center rounded bg-slate-800 text-xs text-white">
                  {m.kind === "video" ? "Video" : "Image"}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {limit !== null && <p className="mt-2 text-sm font-semibold text-red-600">{overNote(counted, rules)}</p>}
    </Card>
  );
}
