// Until the user's address is verified: a banner on the signed-in pages, and a
// way to have the link sent again (here and in Settings).
import { useState } from "react";
import { ApiError, api } from "../api/client";
import { useAuth } from "../auth";
import { tooManyAttempts } from "../lib/messages";
import { Button } from "./ui";

/** "Send the link again", and the server's answer beside it. */
export function ResendVerification() {
  const { refresh } = useAuth();
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);

  const send = async () => {
    setBusy(true);
    setAnswer(null);
    try {
      setAnswer({ ok: true, text: (await api.resendVerification()).message });
    } catch (error) {
      if (error instanceof ApiError && error.code === "already_verified") {
        // Verified meanwhile (another tab, another device): the banner goes once the user is read again.
        await refresh();
        setAnswer({ ok: true, text: error.message });
      } else if (error instanceof ApiError && error.code === "rate_limited") {
        setAnswer({ ok: false, text: tooManyAttempts(error.retryAfter) });
      } else {
        setAnswer({ ok: false, text: error instanceof ApiError ? error.message : String(error) });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="mt-2 flex flex-wrap items-center gap-3">
      <Button type="button" variant="secondary" busy={busy} onClick={send}>
        Send the link again
      </Button>
      <p role="status" className={answer?.ok === false ? "text-sm text-red-700" : "text-sm"}>
        {answer?.text}
      </p>
    </div>
  );
}

export function VerifyEmailBanner() {
  const { user } = useAuth();
  if (!user || user.email_verified !== false) return null;
  return (
    <section
      aria-label="Email verification"
      className="mb-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-600/30"
    >
      <p>
        Verify your email address: we sent a link to <strong>{user.email}</strong>. You can connect platforms once it
        is verified.
      </p>
      <ResendVerification />
    </section>
  );
}
