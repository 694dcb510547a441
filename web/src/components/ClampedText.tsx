// A post's text in a list: long ones shortened, with "more" to read the rest
// in place and "less" to fold it again.
import { useId, useState } from "react";
import { shorten } from "../lib/shorten";

export function ClampedText({ text, className }: { text: string; className?: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const short = shorten(text);
  return (
    <div className={className}>
      <p id={id} className="break-words whitespace-pre-wrap" data-testid="post-text">
        {short === null || open ? text : short}
      </p>
      {short !== null && (
        <button
          type="button"
          className="mt-1 text-sm font-medium text-indigo-700 underline"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "less" : "more"}
        </button>
      )}
    </div>
  );
}
