// Every platform with this user's connection state; connect, reconnect, disconnect.
import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Connection, Platform, PlatformState } from "../api/types";
import { Alert, Badge, Button, Card, EmptyState, Spinner } from "../components/ui";

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
  return (
    <Card>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 className="text-lg font-semibold">{platform.name}</h2>
          <p className="text-sm text-slate-600">Posts up to {platform.rules.max_chars} characters.</p>
        </div>
        <div className="flex items-center gap-3">
          <Badge tone={tone}>{label}</Badge>
          <Button variant={platform.state === "not_connected" ? "primary" : "secondary"} onClick={() => onConnect(platform.id)}>
            {platform.state === "not_connected" ? `Connect ${platform.name}` : platform.state === "active" ? "Connect another account" : "Reconnect"}
          </Button>
        </div>
      </div>
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
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <span>
        <span className="font-medium">@{connection.handle}</span>{" "}
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
