// A verification link from the email: sends its token once, as the page
// opens, and says how it went. Works signed in or not.
import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { useAuth } from "../auth";
import { PublicPage, TextLink } from "../components/PublicPage";
import { Alert, Button, Spinner } from "../components/ui";

type Outcome =
  | { kind: "checking" }
  | { kind: "verified" }
  /** Expired, used or unknown (422 `invalid_link`): the server's words. */
  | { kind: "invalid"; message: string }
  /** Anything else (the network, the server): trying again may work. */
  | { kind: "failed"; message: string };

async function verify(token: string, refresh: () => Promise<void>): Promise<Outcome> {
  try {
    await api.verifyEmail(token);
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_link") return { kind: "invalid", message: error.message };
    return { kind: "failed", message: error instanceof ApiError ? error.message : String(error) };
  }
  // A signed-in user is verified now: read them again, so the dashboard's banner goes.
  await refresh();
  return { kind: "verified" };
}

export function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const { user, loading, refresh } = useAuth();
  const [outcome, setOutcome] = useState<Outcome>({ kind: "checking" });
  const [attempt, setAttempt] = useState(0);
  // The one request per token and attempt: StrictMode runs effects twice, and
  // a token works once, so the second run waits for the first one's answer.
  const sent = useRef<{ key: string; answer: Promise<Outcome> } | null>(null);

  useEffect(() => {
    if (!token) return;
    const key = `${attempt} ${token}`;
    if (sent.current?.key !== key) sent.current = { key, answer: verify(token, refresh) };
    let current = true;
    void sent.current.answer.then((answer) => {
      if (current) setOutcome(answer);
    });
    return () => {
      current = false;
    };
  }, [token, attempt, refresh]);

  if (!token) {
    return (
      <PublicPage title="This link is incomplete">
        <Alert>
          The link has no token. Open the whole link from the email (some mail programs break long links), or ask for
          a new one from Settings.
        </Alert>
        <p className="mt-4 text-sm">{user ? <TextLink to="/settings">Open Settings</TextLink> : <TextLink to="/login">Log in</TextLink>}</p>
      </PublicPage>
    );
  }

  // A used link of an address that is verified anyway (a second click) is no failure.
  if (outcome.kind === "verified" || (outcome.kind === "invalid" && user?.email_verified)) {
    return (
      <PublicPage title="Your email address is verified">
        <p className="text-sm text-slate-700">You can connect platforms and publish now.</p>
        {!loading && (
          <p className="mt-4 text-sm">
            {user ? <TextLink to="/">Go to your dashboard</TextLink> : <TextLink to="/login">Log in</TextLink>}
          </p>
        )}
      </PublicPage>
    );
  }

  if (outcome.kind === "invalid") {
    return (
      <PublicPage title="This link no longer works">
        <Alert>{outcome.message}</Alert>
        <p className="mt-3 text-sm text-slate-600">
          Ask for a new link in Settings with <strong>Send the link again</strong>, then open the newest email.
        </p>
        {!loading && (
          <p className="mt-4 text-sm">
            {user ? <TextLink to="/settings">Open Settings</TextLink> : <TextLink to="/login">Log in</TextLink>}
          </p>
        )}
      </PublicPage>
    );
  }

  if (outcome.kind === "failed") {
    return (
      <PublicPage title="Verifying your email address">
        <Alert>{outcome.message}</Alert>
        <Button
          className="mt-4"
          onClick={() => {
            setOutcome({ kind: "checking" });
            setAttempt((n) => n + 1);
          }}
        >
          Try again
        </Button>
      </PublicPage>
    );
  }

  return (
    <PublicPage title="Verifying your email address">
      <Spinner label="Checking your link…" />
    </PublicPage>
  );
}
