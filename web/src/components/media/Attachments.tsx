// The composer's media section: a file picker and the attached files in post
// order; and what makes the whole composer a drop target.
import { useEffect, useRef, useState, type DragEvent } from "react";
import { AttachmentItem } from "./AttachmentItem";
import { ACCEPTED_TYPES, type Attachments } from "./useAttachments";

export function AttachmentList({ attachments }: { attachments: Attachments }) {
  const { items } = attachments;
  const [announcement, setAnnouncement] = useState("");
  // After a move the moved item's button keeps focus (its node moved in the
  // DOM, which drops focus), or its other button once it reaches an end.
  const refocus = useRef<{ key: string; by: -1 | 1 } | null>(null);

  useEffect(() => {
    const pending = refocus.current;
    if (!pending) return;
    refocus.current = null;
    const [same, other] = pending.by < 0 ? ["up", "down"] : ["down", "up"];
    const button = document.getElementById(`${same}-${pending.key}`) as HTMLButtonElement | null;
    (button && !button.disabled ? button : document.getElementById(`${other}-${pending.key}`))?.focus();
  }, [items]);

  const move = (key: string, by: -1 | 1) => {
    const from = items.findIndex((a) => a.key === key);
    const to = from + by;
    if (from < 0 || to < 0 || to >= items.length) return;
    refocus.current = { key, by };
    attachments.move(key, by);
    setAnnouncement(`${items[from].name} is now attachment ${to + 1} of ${items.length}.`);
  };

  return (
    <div>
      <div className="flex flex-wrap items-center gap-3">
        <input
          id="media-input"
          type="file"
          multiple
          accept={ACCEPTED_TYPES.join(",")}
          className="peer sr-only"
          onChange={(e) => {
            attachments.add(Array.from(e.target.files ?? []));
            // The same file can be chosen again after a removal.
            e.target.value = "";
          }}
        />
        <label
          htmlFor="media-input"
          className="inline-flex cursor-pointer items-center gap-2 rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-indigo-600"
        >
          <svg aria-hidden="true" viewBox="0 0 24 24" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="2">
            <path d="M12 5v14M5 12h14" />
          </svg>
          Add images or video
        </label>
        <span className="text-sm text-slate-600">or drop files onto the composer</span>
      </div>
      {items.length > 0 && (
        <ol className="mt-3 space-y-2" aria-label="Attachments, in order">
          {items.map((item, i) => (
            <AttachmentItem
              key={item.key}
              item={item}
              position={i}
              count={items.length}
              onMove={(by) => move(item.key, by)}
              onRemove={() => {
                attachments.remove(item.key);
                setAnnouncement(`${item.name} removed.`);
              }}
              onAltChange={(text) => attachments.setAlt(item.key, text)}
              onAltBlur={() => void attachments.saveAlt(item.key)}
            />
          ))}
        </ol>
      )}
      <p className="sr-only" role="status" aria-live="polite">
        {announcement}
      </p>
    </div>
  );
}

/**
 * Makes an element a drop target for files: spread `handlers` on it (it must
 * be `relative`) and render `overlay` inside. Other drags (text) pass by.
 */
export function useFileDrop(onFiles: (files: File[]) => void) {
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed; count to know when
  // the drag has really left.
  const depth = useRef(0);
  const carriesFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    },
    onDragLeave: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    },
    onDrop: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      onFiles(Array.from(e.dataTransfer.files));
    },
  };
  const overlay = over && (
    <div
      aria-hidden="true"
      className="pointer-events-none absolute inset-0 flex items-center justify-center rounded-lg border-2 border-dashed border-indigo-500 bg-indigo-50/90 text-lg font-semibold text-indigo-800"
    >
      Drop to attach
    </div>
  );
  return { handlers, overlay };
}
