// Every platform with this user's connection state; connect, reconnect, disconnect.
import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Connection, Platform, PlatformState } from "../api/types";
import { Alert, Badge, Button, Card, EmptyState, Input, Label, Spinner } from "../components/ui";

const stateLabel: Record<PlatformState, [string, "neutral" | "success" | "warning" | "danger"]> = {
  not_connected: ["Not connected", "neutral"],
  active: ["Active", "success"],
  needs_reauth: ["Needs re-auth", "warning"],
  revoked: ["Revoked", "danger"],
};

export function Dashboard() {
  const [platforms, setPlatforms] = useState<Platform[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [params, setParams] = useSearchParams();
  const connected = params.get("connected");
  const connectError = params.get("connect_error");

  const load = useCallback(() => {
    api
      .platforms()
      .then((r) => setPlatforms(r.platforms))
      .catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  useEffect(load, [load]);

  const connect = async (platform: string) => {
    setError(null);
    try {
      const { authorize_url } = await api.authorize(platform);
      window.location.assign(authorize_url);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Your platforms</h1>
      {connected && (
        <Alert tone="success" title="Connected">
          Your {connected} account is connected. You can publish to it now.{" "}
          <button className="underline" onClick={() => setParams({})}>Dismiss</button>
        </Alert>
      )}
      {connectError && (
        <Alert title="The connection did not complete">
          {params.get("message") ?? connectError}. Try connecting again.
        </Alert>
      )}
      {error && <Alert>{error}</Alert>}
      {platforms === null && !error && <Spinner label="Loading platforms…" />}
      {platforms?.length === 0 && <EmptyState title="No platforms are configured on this server." />}
      {platforms?.map((platform) => (
        <PlatformCard key={platform.id} platform={platform} onConnect={connect} onChanged={load} />
      ))}
    </div>
  );
}

function PlatformCard({
  platform,
  onConnect,
  onChanged,
}: {
  platform: Platform;
  onConnect: (id: string) => void;
  onChanged: () => void;
}) {
  const [label, tone] = stateLabel[platform.state];
  const live = platform.connections.filter((c) => c.status !== "revoked");
  const [signingIn, setSigningIn] = useState(false);
  // Mastodon: the user names their instance before going to its sign-in page.
  const [askingServer, setAskingServer] = useState(false);
  const kinds = platform.connect_with ?? [platform.connect ?? "redirect"];
  const credentials = kinds[0] === "credentials";
  // Offered as a second way, e.g. a Bluesky app password for servers without sign-in pages.
  const alsoCredentials = !credentials && kinds.includes("credentials");
  return (
    <Card data-testid={`platform-${platform.id}`}>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 className="text-lg font-semibold">{platform.name}</h2>
          <p className="text-sm text-slate-600">Posts up to {platform.rules.max_chars} characters.</p>
        </div>
        <div className="flex items-center gap-3">
          <Badge tone={tone}>{label}</Badge>
          <Button
            variant={platform.state === "not_connected" ? "primary" : "secondary"}
            aria-expanded={platform.asks_for_server ? askingServer : undefined}
            onClick={() =>
              credentials ? setSigningIn(true) : platform.asks_for_server ? setAskingServer(true) : onConnect(platform.id)
            }
          >
            {platform.state === "not_connected" ? `Connect ${platform.name}` : platform.state === "active" ? "Connect another account" : "Reconnect"}
          </Button>
          {alsoCredentials && !signingIn && (
            <Button variant="secondary" onClick={() => setSigningIn(true)}>
              Use an app password
            </Button>
          )}
        </div>
      </div>
      {askingServer && <ServerForm platform={platform} onCancel={() => setAskingServer(false)} />}
      {signingIn && (
        <SignInForm
          platform={platform}
          onDone={() => {
            setSigningIn(false);
            onChanged();
          }}
          onCancel={() => setSigningIn(false)}
        />
      )}
      {live.length > 0 && (
        <ul className="mt-4 divide-y divide-slate-100" aria-label={`${platform.name} accounts`}>
          {live.map((c) => (
            <ConnectionRow key={c.id} connection={c} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </Card>
  );
}

/** A credentials platform's sign-in: the password goes to the platform once and is never kept. */
function SignInForm({ platform, onDone, onCancel }: { platform: Platform; onDone: () => void; onCancel: () => void }) {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api.signIn(platform.id, identifier.trim(), password);
      setPassword("");
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const id = `signin-${platform.id}`;
  return (
    <form onSubmit={submit} className="mt-4 space-y-3" aria-label={`Sign in to ${platform.name}`}>
      {error && <Alert>{error}</Alert>}
      <div>
        <Label htmlFor={`${id}-identifier`}>Handle</Label>
        <Input
          id={`${id}-identifier`}
          autoComplete="username"
          placeholder="you.bsky.social"
          value={identifier}
          onChange={(e) => setIdentifier(e.target.value)}
          required
        />
      </div>
      <div>
        <Label htmlFor={`${id}-password`}>App password</Label>
        <Input
          id={`${id}-password`}
          type="password"
          autoComplete="off"
          aria-describedby={`${id}-hint`}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">
          Make an app password in {platform.name}'s settings (not your main password). It is used once to sign in
          and never stored.
        </p>
      </div>
      <div className="flex gap-2">
        <Button type="submit" busy={busy} disabled={identifier.trim() === "" || password === ""}>
          Sign in
        </Button>
        <Button type="button" variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/**
 * A platform of many servers (Mastodon): the user names theirs, and Continue
 * goes to that server's sign-in page. A refusal (no such server, not
 * reachable) is shown here and the form stays.
 */
function ServerForm({ platform, onCancel }: { platform: Platform; onCancel: () => void }) {
  // In dev the app runs a Mastodon instance beside itself and offers it here.
  const [server, setServer] = useState(platform.suggested_server ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const instance = server.trim();
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const { authorize_url } = await api.authorize(platform.id, instance);
      // Stays busy: the browser is leaving for the server's page.
      window.location.assign(authorize_url);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };
  const id = `server-${platform.id}`;
  return (
    <form onSubmit={submit} className="mt-4 space-y-3" aria-label={`Connect ${platform.name}`}>
      {error && <Alert>{error}</Alert>}
      <div>
        <Label htmlFor={`${id}-instance`}>Your instance</Label>
        <Input
          id={`${id}-instance`}
          name="server"
          inputMode="url"
          autoComplete="url"
          autoCapitalize="none"
          spellCheck={false}
          placeholder="mastodon.social"
          aria-describedby={`${id}-hint`}
          aria-invalid={error ? true : undefined}
          value={server}
          onChange={(e) => setServer(e.target.value)}
          required
          autoFocus
        />
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">
          The server your account is on, e.g. mastodon.social or fosstodon.org
        </p>
      </div>
      <div className="flex gap-2">
        <Button type="submit" busy={busy} disabled={instance === ""}>
          {instance === "" ? "Continue" : `Continue to ${instance}`}
        </Button>
        <Button type="button" variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/** The host of a connection's server (`https://fosstodon.org` → `fosstodon.org`), if it has one. */
function serverHost(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host || null;
  } catch {
    return url;
  }
}

function ConnectionRow({ connection, onChanged }: { connection: Connection; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const disconnect = async () => {
    setBusy(true);
    try {
      await api.disconnect(connection.id);
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const server = serverHost(connection.service_url);
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <span>
        <span className="font-medium">@{connection.handle}</span>{" "}
        {server && (
          <span className="text-sm text-slate-600" data-testid={`server-${connection.id}`}>
            on {server}
          </span>
        )}{" "}
        {connection.rules && (
          <span className="text-sm text-slate-600">· posts up to {connection.rules.max_chars} characters</span>
        )}{" "}
        {connection.status === "needs_reauth" && <Badge tone="warning">Needs re-auth</Badge>}
      </span>
      {error && <Alert>{error}</Alert>}
      {confirming ? (
        <div role="alertdialog" aria-label={`Disconnect @${connection.handle}?`} className="flex items-center gap-2 text-sm">
          <span>Disconnect @{connection.handle}? Scheduled posts to it are cancelled.</span>
          <Button variant="danger" busy={busy} onClick={disconnect} autoFocus>
            Yes, disconnect
          </Button>
          <Button variant="ghost" onClick={() => setConfirming(false)}>
            Keep
          </Button>
        </div>
      ) : (
        <Button variant="ghost" onClick={() => setConfirming(true)}>
          Disconnect
        </Button>
      )}
    </li>
  );
}
