// The post as one platform will show it: Bluesky's links, mentions and tags
// highlighted, and whatever lies past the platform's limit struck out, counted
// as the platform counts (a Mastodon link at its fixed weight, see lib/length).
import type { Media } from "../api/types";
import { detectFacets, type Facet } from "../lib/facets";
import { byteLength, limitIndex, textLength, usage, type TextRules } from "../lib/length";
import { PlatformIcon } from "./PlatformIcon";
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
  /** The accounts that get this text (`@ada`), where the card stands for some of a platform's. */
  accounts?: string[];
  /** The text is these accounts' own, not the post's main text. */
  ownText?: boolean;
}

/** The post's length as the platform counts it, in its unit: `12 / 300 graphemes`, or bytes where those run out first. */
export function lengthLine(text: string, rules: PreviewRules): string {
  const reading = usage(text, rules);
  if (reading.endsWith("bytes")) return reading;
  return `${reading} ${rules.unit === "graphemes" ? "graphemes" : "characters"}`;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"]+/u;
// Punctuation that ends a sentence rather than the link (`see https://x.org/a.`).
const TRAILING = /[.,;:!?'")\]]+$/u;

/** The first link written out in full (`https://…`), which the platforms turn into a card. */
export function firstLink(text: string): string | null {
  const match = URL_IN_TEXT.exec(text);
  if (!match) return null;
  const url = match[0].replace(TRAILING, "");
  try {
    return new URL(url).host ? url : null;
  } catch {
    return null;
  }
}

/** Where the platform shows the page a link leads to; it fetches the title and picture itself once posted. */
function LinkCard({ url }: { url: string }) {
  const host = new URL(url).host;
  return (
    <div className="mt-3 overflow-hidden rounded-md ring-1 ring-slate-200" data-testid="link-card">
      <div className="flex h-14 items-center justify-center bg-slate-100 text-xs text-slate-500" aria-hidden="true">
        {host}
      </div>
      <div className="px-3 py-2 text-xs">
        <p className="font-medium text-slate-800">{host}</p>
        <p className="truncate text-slate-500">{url}</p>
        <p className="mt-1 text-slate-500">The page's title and picture are shown here once it is posted.</p>
      </div>
    </div>
  );
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

export function PostPreview({
  platformId,
  platformName,
  connectionId,
  rules,
  text,
  warning = "",
  media = [],
  accounts = [],
  ownText = false,
}: Props) {
  const facets = platformId === "bluesky" ? detectFacets(text) : [];
  // The warning comes first in what is counted: where it alone is too long,
  // all of the text is past the limit.
  const counted = warning + text;
  const cut = limitIndex(counted, rules);
  const limit = cut === null ? null : Math.max(0, cut - warning.length);
  // With pictures attached the platforms show those, and no card for a link.
  const link = media.length === 0 ? firstLink(text) : null;
  return (
    <Card
      aria-label={`Preview on ${platformName}`}
      data-testid={connectionId ? `preview-${platformId}-${connectionId}` : `preview-${platformId}`}
      data-over={limit !== null ? "true" : undefined}
      className={limit !== null ? "p-4 ring-2 ring-red-300" : "p-4"}
    >
      <div className="mb-2 flex flex-wrap items-center justify-between gap-x-3 gap-y-1 text-xs">
        <p className="flex items-center gap-1.5 font-medium tracking-wide text-slate-500 uppercase">
          <PlatformIcon platform={platformId} />
          {platformName}
          {accounts.length > 0 && !connectionId && (
            <span className="font-normal tracking-normal normal-case">· {accounts.join(", ")}</span>
          )}
          {ownText && <span className="rounded bg-indigo-50 px-1.5 font-normal tracking-normal text-indigo-700 normal-case">own text</span>}
        </p>
        <p
          data-testid="preview-length"
          className={limit !== null ? "font-semibold text-red-600" : "text-slate-500"}
          title={rules.url_weight != null ? `Every link counts as ${rules.url_weight} characters.` : undefined}
        >
          {lengthLine(counted, rules)}
        </p>
      </div>
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
      {link && <LinkCard url={link} />}
      {limit !== null && <p className="mt-2 text-sm font-semibold text-red-600">{overNote(counted, rules)}</p>}
    </Card>
  );
}
