// A small mark for each platform beside its name, drawn inline: the CSP
// allows no other origin's images, and a mark is only a cue — the name is
// always written next to it, so the mark is hidden from screen readers.
import type { ReactNode } from "react";

/** `className` sizes the mark (default `h-4 w-4`). */
export function PlatformIcon({ platform, className = "h-4 w-4" }: { platform: string; className?: string }) {
  const common = {
    viewBox: "0 0 24 24",
    "aria-hidden": true,
    focusable: false,
    className: `shrink-0 ${className}`,
    "data-platform-icon": platform,
  } as const;
  switch (platform.toLowerCase()) {
    case "bluesky":
      return (
        <svg {...common}>
          <path
            className="fill-sky-500"
            d="M12 11C10.2 7.4 6.4 3.6 3.6 3.6 2.3 3.6 2 4.7 2 6c0 1.4.7 5 2.6 5.7 1.7.6 3.9.4 5.4.1-2.4.6-5.4 1.8-4.2 4.3 1.1 2.3 3.7 2.3 6.2-2.9 2.5 5.2 5.1 5.2 6.2 2.9 1.2-2.5-1.8-3.7-4.2-4.3 1.5.3 3.7.5 5.4-.1C21.3 11 22 7.4 22 6c0-1.3-.3-2.4-1.6-2.4-2.8 0-6.6 3.8-8.4 7.4z"
          />
        </svg>
      );
    case "mastodon":
      return (
        <svg {...common}>
          <path className="fill-violet-600" d="M4 6a4 4 0 0 1 4-4h8a4 4 0 0 1 4 4v7a4 4 0 0 1-4 4h-5l-4 4v-4a3 3 0 0 1-3-3z" />
          <path
            className="stroke-white"
            fill="none"
            strokeWidth="1.8"
            strokeLinecap="round"
            d="M8 13V9.2a1.6 1.6 0 0 1 3.2 0V12M11.2 12V9.2a1.6 1.6 0 0 1 3.2 0V13"
          />
        </svg>
      );
    case "matrix":
      return (
        <svg {...common} fill="none" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path className="stroke-slate-800" d="M6 3H3v18h3M18 3h3v18h-3" />
          <path className="stroke-slate-800" d="M7.5 16v-5.5M7.5 12a2 2 0 0 1 4.5 0v4M12 12a2 2 0 0 1 4.5 0v4" />
        </svg>
      );
    case "manch":
      // Manch: a stage.
      return (
        <svg {...common}>
          <rect className="fill-orange-500" x="2" y="2" width="20" height="20" rx="5" />
          <path className="fill-white" d="M6 17h12v2H6zM8 13h8v3H8zM10.5 6h3v6h-3z" />
        </svg>
      );
    default:
      return (
        <svg {...common} fill="none" strokeWidth="1.8">
          <circle className="stroke-slate-500" cx="12" cy="12" r="9" />
          <path className="stroke-slate-500" d="M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18" />
        </svg>
      );
  }
}

/** A platform's mark and its name, as the lists write a target. */
export function PlatformLabel({ platform, children }: { platform: string; children: ReactNode }) {
  return (
    <span className="inline-flex items-center gap-1.5">
      <PlatformIcon platform={platform} />
      <span>{children}</span>
    </span>
  );
}
