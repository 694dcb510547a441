// Every post, newest first, with its status; retry failed targets, cancel scheduled ones.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Job } from "../api/types";
import { Alert, Badge, Button, Card, EmptyState, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { jobStatusText } from "../lib/status";

export function History() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (after?: string) => {
    try {
      const page = await api.history(after);
      setJobs((old) => (after ? [...(old ?? []), ...page.posts] : page.posts));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (job: Job, what: "retry" | "cancel") => {
    setError(null);
    try {
      await (what === "retry" ? api.retry(job.job_id) : api.cancel(job.job_id));
      const fresh = await api.job(job.job_id);
      setJobs((old) => (old ?? []).map((j) => (j.job_id === fresh.job_id ? fresh : j)));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">History</h1>
      {error && <Alert>{error}</Alert>}
      {jobs === null && !error && <Spinner label="Loading your posts…" />}
      {jobs?.length === 0 && (
        <EmptyState title="Nothing published yet">
          <Link className="font-medium text-indigo-700 underline" to="/compose">Write your first post</Link>.
        </EmptyState>
      )}
      <ul className="space-y-3" aria-label="Posts">
        {jobs?.map((job) => {
          const [label, tone] = jobStatusText[job.status];
          return (
            <li key={job.job_id}>
              <Card>
                <div className="flex flex-wrap items-start justify-between gap-2">
                  <p className="min-w-0 flex-1 break-words whitespace-pre-wrap">{job.content}</p>
                  <Badge tone={tone}>{label}</Badge>
                </div>
                <p className="mt-2 text-sm text-slate-600">
                  {job.scheduled_at
                    ? `Scheduled for ${new Date(job.scheduled_at).toLocaleString()} (${job.time_zone ?? "UTC"})`
                    : `Written ${new Date(job.created_at).toLocaleString()}`}
                  {" · "}
                  {job.tasks.map((t) => `${t.platform} ${taskTarget(t)}`).join(", ")}
                </p>
                <div className="mt-3 flex flex-wrap gap-2">
                  <Link className="self-center text-sm text-indigo-700 underline" to={`/jobs/${job.job_id}`}>
                    Details
                  </Link>
                  {job.tasks.some((t) => t.status === "failed") && (
                    <Button variant="secondary" onClick={() => act(job, "retry")}>
                      Retry failed
                    </Button>
                  )}
                  {job.tasks.some((t) => t.status === "queued" || t.status === "retry_scheduled") && (
                    <Button variant="ghost" onClick={() => act(job, "cancel")}>
                      Cancel
                    </Button>
                  )}
                </div>
              </Card>
            </li>
          );
        })}
      </ul>
      {cursor && (
        <Button
          variant="secondary"
          busy={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            await load(cursor);
            setLoadingMore(false);
          }}
        >
          Older posts
        </Button>
      )}
    </div>
  );
}
