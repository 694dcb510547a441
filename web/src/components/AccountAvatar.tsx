// An account's badge beside its name: its display name's initial (else its
// handle's) on its own colour. The name is always written next to it, so the
// badge is hidden from screen readers.
import { avatarTone, displayNameOf, initialOf } from "../lib/avatar";

export function AccountAvatar({
  account,
  size = "md",
}: {
  account: { id: string; handle: string; display_name?: string | null };
  size?: "sm" | "md";
}) {
  const dimensions = size === "sm" ? "h-6 w-6 text-xs" : "h-8 w-8 text-sm";
  return (
    <span
      aria-hidden="true"
      data-testid="account-avatar"
      className={`inline-flex shrink-0 items-center justify-center rounded-full font-semibold text-white ${dimensions} ${avatarTone(account.id)}`}
    >
      {initialOf(displayNameOf(account) ?? account.handle)}
    </span>
  );
}
