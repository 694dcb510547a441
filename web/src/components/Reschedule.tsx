// Moving a scheduled post to another time without dragging it: a button
// that opens a small form with the time prefilled. The calendar's drag and
// drop sends the same request.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { createPortal } from "react-dom";
import { ApiError, api } from "../api/client";
import type { EditPost, Job } from "../api/types";
import { fromWallTime, localInputValue, parseLocalInput, rfc3339InZone, type WallTime } from "../lib/zoned";
import { Alert, Button, Input, Label } from "./ui";

/** What rescheduling sends: the new time as the zone's clock shows it, and the zone. */
export function rescheduleBody(when: WallTime, zone: string): EditPost {
  return { scheduled_at: rfc3339InZone(when, zone), time_zone: zone };
}

/** Why a new time cannot be taken (not in the future), or null. */
export function pastTimeProblem(when: WallTime, zone: string, now: number = Date.now()): string | null {
  return fromWallTime(when, zone).getTime() <= now ? "Pick a time in the future." : null;
}

/** The server's refusal in its own words: a 409 names the target that has already started. */
export function editError(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e);
}

const FOCUSABLE = "button:not([disabled]), input:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

function RescheduleDialog({
  job,
  zone,
  onClose,
  onSaved,
}: {
  job: Job;
  zone: string;
  onClose: () => void;
  onSaved: (job: Job) => void;
}) {
  const id = useId();
  const [value, setValue] = useState(() =>
    localInputValue(job.scheduled_at ?? new Date(Date.now() + 3_600_000), zone),
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const panel = useRef<HTMLDivElement>(null);

  // Keeps Tab inside the form while it is open, and Escape closes it.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== "Tab" || !panel.current) return;
    const items = [...panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const save = async () => {
    setError(null);
    const when = parseLocalInput(value);
    if (!when) {
      setError("Enter a date and a time.");
      return;
    }
    const past = pastTimeProblem(when, zone);
    if (past) {
      setError(past);
      return;
    }
    setBusy(true);
    try {
      onSaved(await api.editPost(job.post_id, rescheduleBody(when, zone)));
    } catch (e) {
      setError(editError(e));
      setBusy(false);
    }
  };

  return createPortal(
    <div
      className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 p-4"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        ref={panel}
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-post`}
        className="w-full max-w-sm rounded-lg bg-white p-5 shadow-lg ring-1 ring-slate-200"
        onKeyDown={onKeyDown}
      >
        <form
          noValidate
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <h2 id={`${id}-title`} className="text-lg font-semibold">
            Reschedule
          </h2>
          <p id={`${id}-post`} className="line-clamp-2 text-sm break-words text-slate-600">
            {job.content}
          </p>
          {error && <Alert>{error}</Alert>}
          <div>
            <Label htmlFor={`${id}-when`}>New date and time ({zone})</Label>
            <Input
              id={`${id}-when`}
              type="datetime-local"
              value={value}
              required
              autoFocus
              aria-invalid={error ? true : undefined}
              onChange={(e) => setValue(e.target.value)}
            />
          </div>
          <div className="flex justify-end gap-2">
            <Button type="button" variant="ghost" onClick={onClose}>
              Close
            </Button>
            <Button type="submit" busy={busy}>
              Save
            </Button>
          </div>
        </form>
      </div>
    </div>,
    document.body,
  );
}

/** "Reschedule", opening the form; `onDone` gets the post as the server now has it. */
export function RescheduleButton({
  job,
  zone,
  onDone,
  variant = "ghost",
  className,
}: {
  job: Job;
  zone: string;
  onDone: (job: Job) => void;
  variant?: "ghost" | "secondary";
  className?: string;
}) {
  const [open, setOpen] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  // Closing hands focus back to the button that opened the form.
  const refocus = useRef(false);
  useEffect(() => {
    if (open || !refocus.current) return;
    refocus.current = false;
    trigger.current?.focus();
  }, [open]);
  const close = () => {
    refocus.current = true;
    setOpen(false);
  };
  return (
    <>
      <Button ref={trigger} type="button" variant={variant} className={className} onClick={() => setOpen(true)}>
        Reschedule
      </Button>
      {open && (
        <RescheduleDialog
          job={job}
          zone={zone}
          onClose={close}
          onSaved={(fresh) => {
            close();
            onDone(fresh);
          }}
        />
      )}
    </>
  );
}
