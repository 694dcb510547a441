// Every platform with this user's connection state; connect, reconnect,
// disconnect, and pick the rooms an account posts to where it has several.
import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Connection, Destination, Platform, PlatformState } from "../api/types";
import { AccountAvatar } from "../components/AccountAvatar";
import { PlatformIcon } from "../components/PlatformIcon";
import { Alert, Badge, Button, Card, EmptyState, Input, Label, Spinner } from "../components/ui";
import { displayNameOf } from "../lib/avatar";
import { atHandle } from "../lib/handle";
import { platformName as displayName } from "../lib/platforms";

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
  // Back from a platform's consent page (`/?connected=manch&handle=ada`): the
  // banner is kept here, and the URL loses the parameters, so a reload (or a
  // bookmark) does not announce the connection again.
  const [connected, setConnected] = useState<string | null>(() => params.get("connected"));
  const connectError = params.get("connect_error");
  useEffect(() => {
    const platform = params.get("connected");
    if (platform === null) return;
    setConnected(platform);
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        for (const name of ["connected", "platform", "handle"]) next.delete(name);
        return next;
      },
      { replace: true },
    );
  }, [params, setParams]);

  const [notice, setNotice] = useState<string | null>(null);
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
          Your {connectedName(platforms, connected)} account is connected. You can publish to it now.{" "}
          <button className="underline" onClick={() => setConnected(null)}>Dismiss</button>
        </Alert>
      )}
      {connectError && (
        <Alert title="The connection did not complete">
          {connectErrorMessage(connectError, platformName(platforms, params.get("platform")))} Try connecting again.
        </Alert>
      )}
      {notice && (
        <Alert tone="warning" title="Disconnected here, but not at the platform">
          {notice}{" "}
          <button className="underline" onClick={() => setNotice(null)}>Dismiss</button>
        </Alert>
      )}
      {error && <Alert>{error}</Alert>}
      {platforms === null && !error && <Spinner label="Loading platforms…" />}
      {platforms?.length === 0 && <EmptyState title="No platforms are configured on this server." />}
      {platforms?.map((platform) => (
        <PlatformCard
          key={platform.id}
          platform={platform}
          onConnect={connect}
          onChanged={load}
          onDisconnected={(message) => {
            setNotice(message ?? null);
            load();
          }}
        />
      ))}
    </div>
  );
}

/**
 * Words for an OAuth error code a platform sent back. Only the code and the
 * platform id come from the URL, and neither is shown as it came: anyone can
 * craft a link to this page, so no free text from it reaches the screen.
 */
export function connectErrorMessage(code: string, platform: string): string {
  switch (code) {
    case "access_denied":
      return `You declined at ${platform}, so nothing was connected.`;
    case "invalid_scope":
      return `${platform} did not grant the access Prasaran needs to post.`;
    case "server_error":
    case "temporarily_unavailable":
      return `${platform} had a problem finishing the connection; wait a moment.`;
    default:
      return /^[a-z_]{1,40}$/.test(code)
        ? `${platform} did not finish connecting (it answered “${code}”).`
        : `${platform} did not finish connecting.`;
  }
}

/**
 * The connected platform's name: the server's, else the known name of the id
 * in the URL. Anyone can craft that link, so an id that does not look like one
 * is not shown.
 */
function connectedName(platforms: Platform[] | null, id: string): string {
  const listed = platforms?.find((p) => p.id === id)?.name;
  if (listed) return listed;
  return /^[a-z][a-z0-9_-]{0,39}$/.test(id) ? displayName(id) : "new";
}

/** The platform's name from the server's list; the URL's id only picks it. */
function platformName(platforms: Platform[] | null, id: string | null): string {
  return platforms?.find((p) => p.id === id)?.name ?? "The platform";
}

function PlatformCard({
  platform,
  onConnect,
  onChanged,
  onDisconnected,
}: {
  platform: Platform;
  onConnect: (id: string) => void;
  onChanged: () => void;
  onDisconnected: (message?: string) => void;
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
          <h2 className="flex items-center gap-2 text-lg font-semibold">
            <PlatformIcon platform={platform.id} className="h-5 w-5" />
            {platform.name}
          </h2>
          <p className="text-sm text-slate-600">Posts up to {platform.rules.max_chars.toLocaleString("en")} characters.</p>
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
            <ConnectionRow
              key={c.id}
              connection={c}
              hasDestinations={platform.has_destinations}
              onDisconnected={onDisconnected}
            />
          ))}
        </ul>
      )}
    </Card>
  );
}

/** How a credentials platform's sign-in names its fields: Bluesky takes a handle and an app password. */
function signInWords(platform: Platform) {
  return platform.id === "matrix"
    ? {
        identifier: "Matrix ID",
        example: "@you:example.org",
        password: "Password",
        hint: "Your Matrix account's password. It is used once to sign in and never stored.",
      }
    : {
        identifier: "Handle",
        example: "you.bsky.social",
        password: "App password",
        hint: `Make an app password in ${platform.name}'s settings (not your main password). It is used once to sign in and never stored.`,
      };
}

/**
 * A credentials platform's sign-in: the password goes to the platform once
 * and is never kept. Where the platform has many servers (Matrix), the user
 * may name theirs; left empty, the server finds it from the identifier.
 */
function SignInForm({ platform, onDone, onCancel }: { platform: Platform; onDone: () => void; onCancel: () => void }) {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const [server, setServer] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const named = server.trim();
      await api.signIn(platform.id, identifier.trim(), password, named === "" ? undefined : named);
      setPassword("");
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const id = `signin-${platform.id}`;
  const words = signInWords(platform);
  return (
    <form onSubmit={submit} className="mt-4 space-y-3" aria-label={`Sign in to ${platform.name}`}>
      {error && <Alert>{error}</Alert>}
      <div>
        <Label htmlFor={`${id}-identifier`}>{words.identifier}</Label>
        <Input
          id={`${id}-identifier`}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          placeholder={words.example}
          value={identifier}
          onChange={(e) => setIdentifier(e.target.value)}
          required
        />
      </div>
      <div>
        <Label htmlFor={`${id}-password`}>{words.password}</Label>
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
          {words.hint}
        </p>
      </div>
      {platform.sign_in_names_server && (
        <div>
          <Label htmlFor={`${id}-server`}>
            Homeserver <span className="font-normal text-slate-500">(optional)</span>
          </Label>
          <Input
            id={`${id}-server`}
            name="server"
            inputMode="url"
            autoComplete="url"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="matrix.example.org"
            aria-describedby={`${id}-server-hint`}
            value={server}
            onChange={(e) => setServer(e.target.value)}
          />
          <p id={`${id}-server-hint`} className="mt-1 text-xs text-slate-600">
            Leave empty to find it from your Matrix ID
          </p>
        </div>
      )}
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

function ConnectionRow({
  connection,
  hasDestinations,
  onDisconnected,
}: {
  connection: Connection;
  /** The platform posts to places the user picks per account (Matrix rooms). */
  hasDestinations?: boolean;
  /** With what to tell the user when the platform could not end its grant. */
  onDisconnected: (message?: string) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const disconnect = async () => {
    setBusy(true);
    try {
      const result = await api.disconnect(connection.id);
      onDisconnected(result.platform_revocation === "failed" ? (result.message ?? undefined) : undefined);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const server = serverHost(connection.service_url);
  const name = displayNameOf(connection);
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <span className="flex min-w-0 items-center gap-2">
        <AccountAvatar account={connection} />
        <span className="min-w-0 break-words">
          {name && (
            <>
              <span className="font-medium" data-testid={`display-name-${connection.id}`}>
                {name}
              </span>{" "}
            </>
          )}
          <span className={name ? "text-slate-700" : "font-medium"}>{atHandle(connection.handle)}</span>{" "}
          {server && (
            <span className="text-sm text-slate-600" data-testid={`server-${connection.id}`}>
              on {server}
            </span>
          )}{" "}
          {connection.rules && (
            <span className="text-sm text-slate-600">
              · posts up to {connection.rules.max_chars.toLocaleString("en")} characters
            </span>
          )}{" "}
          {connection.status === "needs_reauth" && <Badge tone="warning">Needs re-auth</Badge>}
        </span>
      </span>
      {error && <Alert>{error}</Alert>}
      {confirming ? (
        <div role="alertdialog" aria-label={`Disconnect ${atHandle(connection.handle)}?`} className="flex items-center gap-2 text-sm">
          <span>Disconnect {atHandle(connection.handle)}? Scheduled posts to it are cancelled.</span>
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
      {hasDestinations && connection.status !== "revoked" && (
        // Remounted when the server's rooms or picks change (a reconnect reads them again).
        <RoomPicker key={roomsKey(connection.destinations)} connection={connection} />
      )}
    </li>
  );
}

/** The rooms and which are picked, as one string. */
function roomsKey(rooms: Destination[] | undefined): string {
  return (rooms ?? []).map((r) => `${r.selected ? "+" : "-"}${r.id}`).join(" ");
}

const pickedIds = (rooms: Destination[]) => rooms.filter((r) => r.selected).map((r) => r.id);

/**
 * Which of an account's rooms its posts go to (each picked room gets its own
 * copy). The rooms are those it had joined when it connected; Save sends the
 * ticked ones, and a refusal is shown here with the ticks kept.
 */
function RoomPicker({ connection }: { connection: Connection }) {
  // What the server holds: publishing follows this, not the unsaved ticks.
  const [rooms, setRooms] = useState<Destination[]>(connection.destinations ?? []);
  const [picked, setPicked] = useState<string[]>(() => pickedIds(rooms));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const id = `rooms-${connection.id}`;
  // In the rooms' order, whatever order they were ticked in.
  const ticked = rooms.filter((r) => picked.includes(r.id)).map((r) => r.id);
  const changed = ticked.join(" ") !== pickedIds(rooms).join(" ");
  const toggle = (room: string, on: boolean) => {
    setSaved(false);
    setPicked((old) => (on ? [...old, room] : old.filter((r) => r !== room)));
  };
  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const answer = await api.pickDestinations(connection.id, ticked);
      const fresh = answer.destinations ?? [];
      setRooms(fresh);
      setPicked(pickedIds(fresh));
      setSaved(true);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  if (rooms.length === 0) {
    return (
      <p className="w-full text-sm text-slate-600">
        {atHandle(connection.handle)} had joined no rooms when it connected. Join one, then reconnect to post there.
      </p>
    );
  }
  return (
    <form onSubmit={save} className="w-full space-y-2" aria-label={`Rooms for ${atHandle(connection.handle)}`}>
      {pickedIds(rooms).length === 0 && (
        <Alert tone="warning">Pick at least one room: posts to this account go to the rooms you pick.</Alert>
      )}
      {error && <Alert>{error}</Alert>}
      <fieldset>
        <legend className="text-sm font-medium text-slate-800">Post to these rooms</legend>
        <ul className="mt-1 space-y-1">
          {rooms.map((room, n) => (
            <li key={room.id} className="flex flex-wrap items-baseline gap-x-2 text-sm">
              <input
                id={`${id}-${n}`}
                type="checkbox"
                className="h-4 w-4 self-center"
                aria-describedby={`${id}-${n}-id`}
                checked={picked.includes(room.id)}
                onChange={(e) => toggle(room.id, e.target.checked)}
              />
              <label htmlFor={`${id}-${n}`} title={room.id}>
                {room.name}
              </label>
              <span id={`${id}-${n}-id`} className="truncate text-xs text-slate-500">
                {room.id}
              </span>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="flex items-center gap-2">
        <Button type="submit" variant="secondary" busy={busy} disabled={!changed}>
          Save rooms
        </Button>
        {saved && !changed && (
          <span role="status" className="text-sm text-slate-600">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
