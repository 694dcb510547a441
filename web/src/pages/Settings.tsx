// The signed-in user's own account: its email address and whether it is
// verified, change the password, see and end the sessions that are open, and
// make or revoke personal API tokens.
import { zodResolver } from "@hookform/resolvers/zod";
import { useCallback, useEffect, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import {
  DEFAULT_TOKEN_SCOPES,
  TOKEN_SCOPES,
  type ApiToken,
  type CreatedApiToken,
  type NewApiToken,
  type OpenSession,
  type Quotas,
  type TokenScope,
} from "../api/types";
import { useAuth } from "../auth";
import { Alert, Badge, Button, Card, EmptyState, FieldError, Input, Label, Select, Spinner } from "../components/ui";
import { ResendVerification } from "../components/VerifyEmailBanner";
import { tooManyAttempts } from "../lib/messages";
import { passwordChangeSchema, type PasswordChange } from "../lib/schemas";

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
const when = (at: string) => new Date(at).toLocaleString();

export function Settings() {
  // Changing the password ends the other sessions: the list is read again.
  const [sessionsRead, setSessionsRead] = useState(0);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Settings</h1>
      <AccountSection />
      <UsageSection />
      <PasswordSection onChanged={() => setSessionsRead((n) => n + 1)} />
      <SessionsSection key={sessionsRead} />
      <TokensSection />
    </div>
  );
}

function AccountSection() {
  const { user } = useAuth();
  if (!user) return null;
  const verified = user.email_verified !== false;
  return (
    <Card aria-labelledby="account-heading">
      <h2 id="account-heading" className="mb-3 text-lg font-semibold">
        Account
      </h2>
      <dl className="text-sm">
        <dt className="font-medium text-slate-800">Email</dt>
        <dd className="mt-1 flex flex-wrap items-center gap-2">
          <span className="break-all">{user.email}</span>
          <Badge tone={verified ? "success" : "warning"}>{verified ? "Verified" : "Not verified"}</Badge>
        </dd>
      </dl>
      {!verified && (
        <div className="mt-3 text-sm text-slate-700">
          <p>Open the link we sent to this address to verify it. Until then you cannot connect platforms.</p>
          <ResendVerification />
        </div>
      )}
    </Card>
  );
}

const QUOTA_LABELS: [keyof Quotas, string][] = [
  ["publishes_per_hour", "Posts in the last hour"],
  ["publishes_per_day", "Posts in the last day"],
  ["pending_scheduled", "Scheduled posts waiting"],
  ["connections", "Connected accounts"],
  ["api_tokens", "API tokens"],
  ["authorizations_per_hour", "Connections started in the last hour"],
  ["media_bytes", "Uploads"],
];

const bytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;

/** What the account has used of each quota, read fresh when the page opens. */
function UsageSection() {
  // undefined while reading; null when the server tells none.
  const [quotas, setQuotas] = useState<Quotas | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .me()
      .then((session) => setQuotas(session.quotas ?? null))
      .catch((e) => setError(message(e)));
  }, []);
  return (
    <Card aria-labelledby="usage-heading">
      <h2 id="usage-heading" className="mb-3 text-lg font-semibold">
        Usage
      </h2>
      {error && <Alert>{error}</Alert>}
      {quotas === undefined && !error && <Spinner label="Reading usage…" />}
      {quotas === null && <p className="text-sm text-slate-600">This server sets no quotas.</p>}
      {quotas && (
        <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
          {QUOTA_LABELS.map(([key, label]) => {
            const { used, limit } = quotas[key];
            const full = used >= limit;
            const shown = key === "media_bytes" ? `${bytes(used)} of ${bytes(limit)}` : `${used} of ${limit}`;
            return (
              <div key={key} data-testid={`quota-${key}`} className="flex justify-between gap-2">
                <dt className="text-slate-700">{label}</dt>
                <dd className={full ? "font-medium text-red-700" : "text-slate-900"}>
                  {shown}
                  {full && " — full"}
                </dd>
              </div>
            );
          })}
        </dl>
      )}
    </Card>
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
        setFormError(tooManyAttempts(error.retryAfter));
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

/** What each scope lets a token do. */
const SCOPE_HINTS: Record<TokenScope, string> = {
  "posts:write": "publish, schedule, retry and cancel posts; upload media",
  "posts:read": "read posts, jobs and media",
  connections: "connect, list and disconnect platform accounts",
  tokens: "create, list and revoke API tokens",
};

type Expiry = "30" | "90" | "365" | "never";

const NEVER_WARNING = "A token that never expires stays valid until you revoke it.";

function TokensSection() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(DEFAULT_TOKEN_SCOPES);
  const [expiry, setExpiry] = useState<Expiry>("90");
  // The login is too old to create a token: the server wants the password too.
  const [askPassword, setAskPassword] = useState(false);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | null>(null);
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

  const toggleScope = (scope: TokenScope, on: boolean) =>
    setScopes((old) => (on ? [...old.filter((s) => s !== scope), scope] : old.filter((s) => s !== scope)));

  const ready = name.trim() !== "" && scopes.length > 0 && (!askPassword || password !== "");
  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setError(null);
    setPasswordError(null);
    setBusy(true);
    const token: NewApiToken = {
      name: name.trim(),
      scopes: TOKEN_SCOPES.filter((s) => scopes.includes(s)),
      ...(expiry === "never" ? { no_expiry: true } : { expires_in_days: Number(expiry) }),
      ...(askPassword ? { password } : {}),
    };
    try {
      setCreated(await api.createToken(token));
      setName("");
      setScopes(DEFAULT_TOKEN_SCOPES);
      setExpiry("90");
      setAskPassword(false);
      setPassword("");
      load();
    } catch (e) {
      if (e instanceof ApiError && e.code === "reauthentication_required") {
        setAskPassword(true);
      } else if (e instanceof ApiError && e.code === "wrong_password") {
        setAskPassword(true);
        setPasswordError(e.message);
      } else {
        setError(message(e));
      }
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
        For scripts: send a token as <code>Authorization: Bearer &lt;token&gt;</code>. It acts as you, within its
        scopes, until it expires or you revoke it.
      </p>
      {error && <Alert>{error}</Alert>}
      {created && <NewToken token={created} onDone={() => setCreated(null)} />}
      <form onSubmit={create} className="mt-3 max-w-lg space-y-4" aria-label="Create an API token">
        <div>
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
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">Scopes</legend>
          <ul className="mt-1 space-y-1">
            {TOKEN_SCOPES.map((scope) => {
              const id = `token-scope-${scope.replace(":", "-")}`;
              return (
                <li key={scope} className="flex items-baseline gap-2 text-sm">
                  <input
                    id={id}
                    type="checkbox"
                    className="h-4 w-4 self-center"
                    aria-describedby={`${id}-hint`}
                    checked={scopes.includes(scope)}
                    onChange={(e) => toggleScope(scope, e.target.checked)}
                  />
                  <label htmlFor={id} className="font-mono">
                    {scope}
                  </label>
                  <span id={`${id}-hint`} className="text-slate-600">
                    {SCOPE_HINTS[scope]}
                  </span>
                </li>
              );
            })}
          </ul>
          {scopes.length === 0 && <p className="mt-1 text-sm text-red-600">Pick at least one scope.</p>}
        </fieldset>
        <div>
          <Label htmlFor="token-expiry">Expires</Label>
          <Select
            id="token-expiry"
            className="max-w-48"
            value={expiry}
            aria-describedby={expiry === "never" ? "token-expiry-warning" : undefined}
            onChange={(e) => setExpiry(e.target.value as Expiry)}
          >
            <option value="30">in 30 days</option>
            <option value="90">in 90 days</option>
            <option value="365">in 365 days</option>
            <option value="never">never</option>
          </Select>
          {expiry === "never" && (
            <p id="token-expiry-warning" className="mt-1 text-sm text-amber-800">
              {NEVER_WARNING}
            </p>
          )}
        </div>
        {askPassword && (
          <div>
            <p id="token-password-why" className="mb-2 text-sm text-slate-700">
              You logged in a while ago: enter your password to confirm it is you, then choose Create token again.
            </p>
            <Label htmlFor="token-password">Your password</Label>
            <Input
              id="token-password"
              type="password"
              autoComplete="current-password"
              autoFocus
              value={password}
              aria-invalid={passwordError ? true : undefined}
              aria-describedby={passwordError ? "token-password-why token-password-error" : "token-password-why"}
              onChange={(e) => setPassword(e.target.value)}
            />
            <FieldError id="token-password-error" message={passwordError ?? undefined} />
          </div>
        )}
        <Button type="submit" busy={busy} disabled={!ready}>
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

/** "never expires", "expires <date>", or "expired <date>". */
function expiryText(expiresAt: string | null | undefined, expired: boolean): string {
  if (expiresAt == null) return "never expires";
  return `${expired ? "expired" : "expires"} ${when(expiresAt)}`;
}

function TokenRow({ token, onRevoke }: { token: ApiToken; onRevoke: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const nameId = `token-${token.id}-name`;
  // Read defensively: a server from before scopes and expiry sends neither.
  const expired = token.expired ?? (token.expires_at != null && new Date(token.expires_at).getTime() <= Date.now());
  const scopes = token.scopes ?? [];
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div>
        <p className="font-medium" id={nameId}>
          {token.name} <code className="text-sm font-normal text-slate-600">{token.prefix}…</code>{" "}
          {expired && <Badge tone="danger">Expired</Badge>}
        </p>
        <p className="text-sm text-slate-600">
          scopes: <span className="font-mono">{scopes.length ? scopes.join(", ") : "none"}</span>
        </p>
        <p className="text-sm text-slate-600">
          created {when(token.created_at)} · {expiryText(token.expires_at, expired)} · last used{" "}
          {token.last_used_at ? when(token.last_used_at) : "never"}
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
