// Each chosen platform's word on the attachments, before publishing.
import type { MediaNote } from "../../lib/mediaNotes";

export interface PlatformNotes {
  platform: string;
  notes: MediaNote[];
}

export function MediaNotes({ id, notes }: { id: string; notes: PlatformNotes[] }) {
  const shown = notes.filter((n) => n.notes.length > 0);
  return (
    <div id={id} aria-live="polite" className="space-y-2">
      {shown.map(({ platform, notes }) => (
        <ul key={platform} data-testid={`media-note-${platform}`} className="space-y-1 text-sm">
          {notes.map((note) => (
            <li
              key={note.text}
              className={
                note.level === "error"
                  ? "rounded-md bg-red-50 px-3 py-2 text-red-800 ring-1 ring-inset ring-red-600/30"
                  : "rounded-md bg-amber-50 px-3 py-2 text-amber-800 ring-1 ring-inset ring-amber-600/30"
              }
            >
              <span className="sr-only">{note.level === "error" ? "Error: " : "Note: "}</span>
              {note.text}
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}
