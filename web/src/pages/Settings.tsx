// The signed-in user's own account: change the password, see and end the
// sessions that are open, and make or revoke personal API tokens.
import { zodResolver } from "@hookform/resolvers/zod";
import { useCallback, useEffect, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { ApiToken, CreatedApiToken, OpenSession } from "../api/types";
import { useAuth } from "../auth";
import { Alert, Badge, Button, Card, EmptyState, FieldError, Input, Label, Spinner } from "../components/ui";
import { passwordChangeSchema, type PasswordChange } from "../lib/schemas";

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
const when = (at: string) => new Date(at).toLocaleString();

export function Settings() {
  // Changing the password ends the other sessions: the list is read again.
  const [sessionsRead, setSessionsRead] = useState(0);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Settings</h1>
      <PasswordSection onChanged={() => setSessionsRead((n) => n + 1)} />
      <SessionsSection key={sessionsRead} />
      <TokensSection />
    </div>
  );
}

function PasswordSection({ onChanged }: { onChanged: () => void }) {
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<PasswordChange>({ resolver: zodResolver(passwordChangeSchema), mode: "onBlur" });

  const onSubmit = handleSubmit(async ({ currentPassword, newPassword }) => {
    setFormError(null);
    setDone(false);
    try {
      await api.changePassword(currentPassword, newPassword);
      reset();
      setDone(true);
      onChanged();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "wrong_password") {
        setError("currentPassword", { message: error.message });
      } else if (error.code === "invalid_password") {
        setError("newPassword", { message: error.message });
      } else if (error.code === "rate_limited") {
        setFormError(`Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`);
      } else {
        setFormError(error.message);
      }
    }
  });

  return (
    <Card aria-labelledby="password-heading">
      <h2 id="password-heading" className="mb-4 text-lg font-semibold">
        Password
      </h2>
      <form onSubmit={onSubmit} noValidate className="max-w-sm space-y-4">
        {formError && <Alert>{formError}</Alert>}
        {done && <Alert tone="success">Password changed. Your other sessions were signed out.</Alert>}
        <div>
          <Label htmlFor="current-password">Current password</Label>
          <Input
            id="current-password"
            type="password"
            autoComplete="current-password"
            aria-invalid={errors.currentPassword ? true : undefined}
            aria-describedby={errors.currentPassword ? "current-password-error" : undefined}
            {...register("currentPassword")}
          />
          <FieldError id="current-password-error" message={errors.currentPassword?.message} />
        </div>
        <div>
          <Label htmlFor="new-password">New password</Label>
          <Input
            id="new-password"
            type="password"
            autoComplete="new-password"
            minLength={12}
            maxLength={256}
            aria-invalid={errors.newPassword ? true : undefined}
            aria-describedby={errors.newPassword ? "new-password-error" : "new-password-hint"}
            {...register("newPassword")}
          />
          <FieldError id="new-password-error" message={errors.newPassword?.message} />
          {!errors.newPassword && (
            <p id="new-password-hint" className="mt-1 text-xs text-slate-500">
              At least 12 characters. Your other sessions are signed out.
            </p>
          )}
        </div>
        <Button type="submit" busy={isSubmitting}>
          Change password
        </Button>
      </form>
    </Card>
  );
}

function SessionsSection() {
  const { signedOut } = useAuth();
  const navigate = useNavigate();
  const [sessions, setSessions] = useState<OpenSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api
      .sessions()
      .then((r) => setSessions(r.sessions))
      .catch((e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);

  const end = async (id: string) => {
    setError(null);
    try {
      await api.endSession(id);
    } catch (e) {
      // Already gone (it expired, or ended elsewhere): the list shows what is left.
      if (!(e instanceof ApiError && e.code === "not_found")) setError(message(e));
    }
    load();
  };

  const endEverywhere = async () => {
    setError(null);
    setBusy(true);
    try {
      await api.logoutEverywhere();
    } catch (e) {
      setError(message(e));
      setBusy(false);
      setConfirming(false);
      return;
    }
    // This session ended too: the server has nothing left to log out.
    signedOut();
    navigate("/login");
  };

  return (
    <Card aria-labelledby="sessions-heading">
      <h2 id="sessions-heading" className="text-lg font-semibold">
        Sessions
      </h2>
      <p className="mb-3 text-sm text-slate-600">Where your account is signed in, the last used first.</p>
      {error && <Alert>{error}</Alert>}
      {sessions === null && !error && <Spinner label="Loading sessions…" />}
      {sessions && (
        <ul className="divide-y divide-slate-100" aria-labelledby="sessions-heading">
          {sessions.map((s) => (
            <SessionRow key={s.id} session={s} onEnd={() => end(s.id)} />
          ))}
        </ul>
      )}
      <div className="mt-4">
        {confirming ? (
          <div role="alertdialog" aria-label="Sign out everywhere?" className="flex flex-wrap items-center gap-2 text-sm">
            <span>Sign out every session, this browser too?</span>
            <Button variant="danger" busy={busy} onClick={endEverywhere} autoFocus>
              Yes, sign out everywhere
            </Button>
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
          </div>
        ) : (
          <Button variant="secondary" onClick={() => setConfirming(true)}>
            Sign out everywhere
          </Button>
        )}
      </div>
    </Card>
  );
}

function SessionRow({ session, onEnd }: { session: OpenSession; onEnd: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const client = `session-${session.id}-client`;
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div className="min-w-0">
        <p className="break-words font-medium" id={client}>
          {session.user_agent ?? "Unknown client"}
        </p>
        <p className="text-sm text-slate-600">
          {session.ip && <>{session.ip} · </>}
          signed in {when(session.created_at)} · last seen {when(session.last_seen_at)}
        </p>
      </div>
      {session.current ? (
        <Badge tone="info">This browser</Badge>
      ) : (
        <Button
          variant="ghost"
          busy={busy}
          aria-describedby={client}
          onClick={async () => {
            setBusy(true);
            await onEnd();
            setBusy(false);
          }}
        >
          Sign out
        </Button>
      )}
    </li>
  );
}

function TokensSection() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  // The secret of the token just made: the server never shows it again.
  const [created, setCreated] = useState<CreatedApiToken | null>(null);

  const load = useCallback(() => {
    api
      .tokens()
      .then((r) => setTokens(r.tokens))
      .catch((e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setCreated(await api.createToken(name.trim()));
      setName("");
      load();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setError(null);
    try {
      await api.revokeToken(id);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === "not_found")) setError(message(e));
    }
    if (created?.id === id) setCreated(null);
    load();
  };

  return (
    <Card aria-labelledby="tokens-heading">
      <h2 id="tokens-heading" className="text-lg font-semibold">
        API tokens
      </h2>
      <p className="mb-3 text-sm text-slate-600">
        For scripts: send a token as <code>Authorization: Bearer &lt;token&gt;</code>. It acts as you until revoked.
      </p>
      {error && <Alert>{error}</Alert>}
      {created && <NewToken token={created} onDone={() => setCreated(null)} />}
      <form onSubmit={create} className="mt-3 flex flex-wrap items-end gap-2" aria-label="Create an API token">
        <div className="min-w-48 flex-1">
          <Label htmlFor="token-name">Token name</Label>
          <Input
            id="token-name"
            placeholder="load test"
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
          />
        </div>
        <Button type="submit" busy={busy} disabled={name.trim() === ""}>
          Create token
        </Button>
      </form>
      {tokens === null && !error && <Spinner label="Loading tokens…" />}
      {tokens?.length === 0 && (
        <div className="mt-4">
          <EmptyState title="No API tokens yet." />
        </div>
      )}
      {tokens && tokens.length > 0 && (
        <ul className="mt-4 divide-y divide-slate-100" aria-labelledby="tokens-heading">
          {tokens.map((t) => (
            <TokenRow key={t.id} token={t} onRevoke={() => revoke(t.id)} />
          ))}
        </ul>
      )}
    </Card>
  );
}

/** The secret of a token just made, to copy now or never. */
function NewToken({ token, onDone }: { token: CreatedApiToken; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<"copied" | "failed" | null>(null);
  const copyToken = async () => {
    try {
      // Absent outside secure contexts (plain http on another host).
      if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
      await navigator.clipboard.writeText(token.token);
      setCopy("copied");
    } catch {
      field.current?.select();
      setCopy("failed");
    }
  };
  return (
    <div className="mt-3 space-y-2 rounded-md bg-green-50 p-3 ring-1 ring-inset ring-green-600/30">
      <p role="status" className="text-sm font-semibold text-green-800">
        Token “{token.name}” created. Copy it now: it is not shown again.
      </p>
      <Label htmlFor="new-token">Your new token</Label>
      <div className="flex gap-2">
        <Input
          id="new-token"
          ref={field}
          readOnly
          value={token.token}
          className="font-mono"
          onFocus={(e) => e.currentTarget.select()}
        />
        <Button type="button" variant="secondary" className="mt-1" onClick={copyToken}>
          Copy
        </Button>
        <Button type="button" variant="ghost" className="mt-1" onClick={onDone}>
          Hide token
        </Button>
      </div>
      <p role="status" className="text-sm text-slate-700">
        {copy === "copied" && "Copied."}
        {copy === "failed" && "This browser did not let us copy: the token is selected, copy it by hand."}
      </p>
    </div>
  );
}

function TokenRow({ token, onRevoke }: { token: ApiToken; onRevoke: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const nameId = `token-${token.id}-name`;
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div>
        <p className="font-medium" id={nameId}>
          {token.name} <code className="text-sm font-normal text-slate-600">{token.prefix}…</code>
        </p>
        <p className="text-sm text-slate-600">
          created {when(token.created_at)} · last used {token.last_used_at ? when(token.last_used_at) : "never"}
        </p>
      </div>
      {confirming ? (
        <div role="alertdialog" aria-label={`Revoke ${token.name}?`} className="flex items-center gap-2 text-sm">
          <span>Scripts using it stop working.</span>
          <Button
            variant="danger"
            busy={busy}
            autoFocus
            onClick={async () => {
              setBusy(true);
              await onRevoke();
              setBusy(false);
              setConfirming(false);
            }}
          >
            Yes, revoke
          </Button>
          <Button variant="ghost" onClick={() => setConfirming(false)}>
            Keep
          </Button>
        </div>
      ) : (
        <Button variant="ghost" aria-describedby={nameId} onClick={() => setConfirming(true)}>
          Revoke
        </Button>
      )}
    </li>
  );
}
