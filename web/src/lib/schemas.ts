// Form rules, mirroring the server's (src/domain/email.rs, password.rs).
import { z } from "zod";

// The server's CSP forbids eval: zod must not even probe for it (the probe is
// reported as a violation). Set before any schema below is built.
z.config({ jitless: true });

const newPassword = z
  .string()
  .min(12, "Use at least 12 characters.")
  .max(256, "Use at most 256 characters.")
  .refine((p) => p.trim().length > 0, "The password cannot be only spaces.");

const email = z.string().trim().min(1, "Enter your email address.").email("Enter a valid email address.");

export const credentialsSchema = z.object({
  email,
  password: newPassword,
});

export type Credentials = z.infer<typeof credentialsSchema>;

/** Logging in: any password the account has (the length rule is for new ones). */
export const loginSchema = z.object({
  email,
  password: z.string().min(1, "Enter your password."),
});

export const passwordChangeSchema = z.object({
  currentPassword: z.string().min(1, "Enter your current password."),
  newPassword,
});

export type PasswordChange = z.infer<typeof passwordChangeSchema>;

/** Forgot password: only the address. */
export const emailSchema = z.object({ email });

export type EmailOnly = z.infer<typeof emailSchema>;

/** A new password from a reset link, typed twice. */
export const passwordResetSchema = z
  .object({
    password: newPassword,
    confirm: z.string().min(1, "Type the new password again."),
  })
  .refine((v) => v.password === v.confirm, {
    message: "The two passwords do not match.",
    path: ["confirm"],
  });

export type PasswordReset = z.infer<typeof passwordResetSchema>;

// Counting lives in ./length (links and mentions as the platforms count them).
export { charCount, countText, type TextUnit } from "./length";

export const composeSchema = z
  .object({
    content: z.string().refine((c) => c.trim().length > 0, "Write something to publish."),
    connectionIds: z.array(z.string()).min(1, "Choose at least one account."),
    when: z.enum(["now", "later"]),
    scheduledAt: z.string().optional(),
    // Post options (Mastodon: all three; Bluesky: the language); sent only
    // where a chosen platform takes them, and only when set.
    visibility: z.enum(["public", "unlisted", "followers"]).optional(),
    contentWarning: z.string().optional(),
    language: z.string().optional(),
    // Own text for some of the chosen accounts, by connection id.
    variations: z.record(z.string(), z.string()).optional(),
  })
  .refine((v) => v.when === "now" || (v.scheduledAt && new Date(v.scheduledAt) > new Date()), {
    message: "Pick a time in the future.",
    path: ["scheduledAt"],
  })
  .refine((v) => v.connectionIds.every((id) => (v.variations?.[id] ?? "x").trim() !== ""), {
    message: "An account's own text is empty: write it, or use the main text.",
    path: ["variations"],
  });

export type ComposeForm = z.infer<typeof composeSchema>;

/** `2026-12-01T09:00` (local, from datetime-local) → RFC 3339 with the browser's offset. */
export function toRfc3339WithOffset(local: string): string {
  const date = new Date(local);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${local.length === 16 ? `${local}:00` : local}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
