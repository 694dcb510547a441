// Cancelling what of a post has not gone out yet: asked first, like the
// app's other confirmations, and answered with a notice rather than an error.
import { useEffect, useRef, useState } from "react";
import type { Job } from "../api/types";
import { Button } from "./ui";

/** The question asked: a scheduled post, or the targets still waiting for another attempt. */
export function cancelQuestion(job: Pick<Job, "scheduled_at">): string {
  return job.scheduled_at ? "Cancel this scheduled post?" : "Cancel the targets not published yet?";
}

/**
 * What cancelling did, from the number of targets it stopped (`{"tasks": n}`)
 * and whether anything of the post had started.
 */
export function cancelOutcome(stopped: number, started: boolean): string {
  if (stopped === 0) return "There was nothing left to cancel: every target had already started.";
  if (!started) return "Done: this post will not be published.";
  return stopped === 1
    ? "Done: the 1 target not published yet will not be."
    : `Done: the ${stopped} targets not published yet will not be.`;
}

/** Whether any target of the post had begun (an attempt made, or a final state): cancelling then stops only the rest. */
export function hasStarted(job: Pick<Job, "tasks">): boolean {
  return job.tasks.some((t) => t.attempts > 0 || (t.status !== "queued" && t.status !== "retry_scheduled"));
}

/** "Cancel", then "Yes, cancel" / "Keep it" in place. */
export function CancelPost({
  job,
  busy,
  onConfirm,
  variant = "ghost",
}: {
  job: Pick<Job, "scheduled_at">;
  busy?: boolean;
  onConfirm: () => Promise<void> | void;
  variant?: "ghost" | "secondary";
}) {
  const [asking, setAsking] = useState(false);
  const cancelButton = useRef<HTMLButtonElement>(null);
  // "Keep it" hands focus back to the button that asked.
  const refocus = useRef(false);
  useEffect(() => {
    if (asking || !refocus.current) return;
    refocus.current = false;
    cancelButton.current?.focus();
  }, [asking]);
  const question = cancelQuestion(job);
  if (!asking) {
    return (
      <Button ref={cancelButton} variant={variant} busy={busy} onClick={() => setAsking(true)}>
        Cancel
      </Button>
    );
  }
  return (
    <div role="alertdialog" aria-label={question} className="flex flex-wrap items-center gap-2 text-sm">
      <span>{question}</span>
      <Button
        variant="danger"
        busy={busy}
        autoFocus
        onClick={async () => {
          await onConfirm();
          setAsking(false);
        }}
      >
        Yes, cancel
      </Button>
      <Button
        variant="ghost"
        onClick={() => {
          refocus.current = true;
          setAsking(false);
        }}
      >
        Keep it
      </Button>
    </div>
  );
}
