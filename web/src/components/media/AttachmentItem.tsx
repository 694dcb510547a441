// One attachment: its preview, upload progress or error, alt text, and the
// buttons that move or remove it.
import type { Media } from "../../api/types";
import { formatBytes, formatDuration } from "../../lib/mediaNotes";
import { charCount } from "../../lib/schemas";
import { Button, Label, Textarea } from "../ui";
import { MAX_ALT_TEXT_CHARS, type Attachment } from "./useAttachments";

interface Props {
  item: Attachment;
  position: number;
  count: number;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
  onAltChange: (text: string) => void;
  onAltBlur: () => void;
}

export function AttachmentItem({ item, position, count, onMove, onRemove, onAltChange, onAltBlur }: Props) {
  const { key, name, media } = item;
  const altId = `alt-${key}`;
  const altLength = charCount(item.altDraft);
  return (
    <li className="rounded-md p-3 ring-1 ring-slate-200" data-testid="attachment">
      <div className="flex gap-3">
        <Preview media={media} />
        <div className="min-w-0 flex-1 space-y-2 text-sm">
          <p>
            <span className="block truncate font-medium text-slate-900">{name}</span>
            {media && <span className="text-slate-600">{describe(media)}</span>}
          </p>
          {item.status === "uploading" && (
            <progress
              className="h-2 w-full overflow-hidden rounded [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-indigo-600 [&::-moz-progress-bar]:bg-indigo-600"
              max={100}
              value={Math.round(item.progress * 100)}
              aria-label={`Uploading ${name}`}
            />
          )}
        </div>
        <div className="flex shrink-0 flex-col items-end gap-1">
          <div className="flex gap-1">
            <MoveButton id={`up-${key}`} name={name} direction="up" disabled={position === 0} onMove={() => onMove(-1)} />
            <MoveButton
              id={`down-${key}`}
              name={name}
              direction="down"
              disabled={position === count - 1}
              onMove={() => onMove(1)}
            />
          </div>
          <Button type="button" variant="ghost" aria-label={`Remove ${name}`} onClick={onRemove}>
            Remove
          </Button>
        </div>
      </div>
      {item.status === "failed" && (
        <p role="alert" className="mt-2 text-sm text-red-600 sm:ml-23">
          Not attached: {item.error}
        </p>
      )}
      {item.status === "ready" && (
        <div className="mt-2 sm:ml-23">
          <Label htmlFor={altId}>
            Alt text<span className="sr-only"> for {name}</span>
          </Label>
          <Textarea
            id={altId}
            rows={2}
            value={item.altDraft}
            onChange={(e) => onAltChange(e.target.value)}
            onBlur={onAltBlur}
            placeholder={media?.kind === "video" ? "Describe the video (optional)" : "Describe the image for people who cannot see it"}
            aria-invalid={item.altError || altLength > MAX_ALT_TEXT_CHARS ? true : undefined}
            aria-describedby={`${altId}-count ${altId}-state`}
          />
          <div className="mt-1 flex flex-wrap justify-between gap-2 text-xs">
            <span id={`${altId}-state`} className={item.altError ? "text-red-600" : "text-slate-600"}>
              {item.altError ?? (item.altState === "saving" ? "Saving…" : item.altState === "saved" ? "Saved" : "")}
            </span>
            <span
              id={`${altId}-count`}
              className={altLength > MAX_ALT_TEXT_CHARS ? "font-semibold text-red-600" : "text-slate-600"}
            >
              {altLength} / {MAX_ALT_TEXT_CHARS.toLocaleString("en")}
            </span>
          </div>
        </div>
      )}
    </li>
  );
}

function Preview({ media }: { media: Media | null }) {
  const box = "flex h-20 w-20 shrink-0 items-center justify-center overflow-hidden rounded bg-slate-100 text-slate-500";
  if (media?.thumbnail_url) {
    // Decorative: the file's name and alt text sit beside it.
    return <img src={media.thumbnail_url} alt="" className="h-20 w-20 shrink-0 rounded bg-slate-100 object-cover" />;
  }
  if (media?.kind === "video") {
    return (
      <div className={box}>
        <svg aria-hidden="true" viewBox="0 0 24 24" className="h-8 w-8" fill="currentColor">
          <path d="M4 5h11a2 2 0 0 1 2 2v2.5l4-2.5v10l-4-2.5V17a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z" />
        </svg>
      </div>
    );
  }
  return (
    <div className={box}>
      <svg aria-hidden="true" viewBox="0 0 24 24" className="h-8 w-8" fill="none" stroke="currentColor" strokeWidth="1.5">
        <rect x="3" y="4" width="18" height="16" rx="2" />
        <path d="m3 16 5-5 4 4 3-3 6 6" />
      </svg>
    </div>
  );
}

/** `Image · 1200×800 · 240 KiB`, `Video · 0:12 · 3.1 MiB`. */
function describe(media: Media): string {
  const kind = media.kind === "video" ? "Video" : media.kind === "gif" ? "GIF" : "Image";
  const parts = [kind];
  if (media.kind === "video" && media.duration_ms != null) parts.push(formatDuration(media.duration_ms));
  else if (media.width && media.height) parts.push(`${media.width}×${media.height}`);
  parts.push(formatBytes(media.bytes));
  return parts.join(" · ");
}

/** Moves an attachment one place; labelled for screen readers, usable by keyboard. */
function MoveButton(props: { id: string; name: string; direction: "up" | "down"; disabled: boolean; onMove: () => void }) {
  const { id, name, direction, disabled, onMove } = props;
  return (
    <Button
      id={id}
      type="button"
      variant="secondary"
      className="px-2.5"
      aria-label={`Move ${name} ${direction}`}
      title={`Move ${direction}`}
      disabled={disabled}
      onClick={onMove}
    >
      <span aria-hidden="true">{direction === "up" ? "↑" : "↓"}</span>
    </Button>
  );
}
