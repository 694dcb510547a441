// Every post, newest first, with its status; retry failed targets, cancel scheduled ones.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { FINAL_JOB_STATES, type Job } from "../api/types";
import { CancelPost, cancelOutcome, hasStarted } from "../components/CancelPost";
import { Alert, Badge, Button, Card, EmptyState, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { platformName } from "../lib/platforms";
import { isWaitingForSchedule, jobStatusLabel, localTime, publishedAt } from "../lib/status";

/** The line under a post: when it was written or is scheduled, when it went out, and where to. */
function summary(job: Job): string {
  const parts: string[] = [];
  if (job.scheduled_at && !isWaitingForSchedule(job)) {
    // While it waits, the status beside it says when it goes.
    parts.push(`Scheduled for ${localTime(job.scheduled_at)} (${job.time_zone ?? "UTC"})`);
  } else {
    parts.push(`Written ${localTime(job.created_at)}`);
  }
  const published = publishedAt(job);
  if (published) parts.push(`Published ${localTime(published)}`);
  parts.push(job.tasks.map((t) => `${platformName(t.platform)} ${taskTarget(t)}`).join(", "));
  return parts.join(" · ");
}

/** How often the list is read again while a post in it is still going out. */
export const HISTORY_POLL_MS = 5_000;

/**
 * The list with a fresh first page: its posts in the server's order, then the
 * older ones already loaded that it no longer holds (the user's place in the
 * list stays).
 */
export function mergeFirstPage(old: Job[], fresh: Job[]): Job[] {
  const ids = new Set(fresh.map((j) => j.job_id));
  return [...fresh, ...old.filter((j) => !ids.has(j.job_id))];
}

export function History() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // What a cancel did, by job: shown in that post's card.
  const [notices, setNotices] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);

  // Older pages were loaded: a fresh first page then keeps them and their cursor.
  const pagedOn = useRef(false);

  const load = useCallback(async (after?: string) => {
    try {
      const page = await api.history(after);
      if (after) pagedOn.current = true;
      setJobs((old) => (after ? [...(old ?? []), ...page.posts] : page.posts));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  // While a listed post is still going out, read the first page again now and
  // then (only while the page is in view); no longer once every post is final.
  const unfinished = jobs?.some((j) => !FINAL_JOB_STATES.includes(j.status)) ?? false;
  useEffect(() => {
    if (!unfinished) return;
    let stopped = false;
    let inFlight = false;
    const poll = async () => {
      if (inFlight || document.visibilityState !== "visible") return;
      inFlight = true;
      try {
        const page = await api.history();
        if (stopped) return;
        if (pagedOn.current) {
          setJobs((old) => mergeFirstPage(old ?? [], page.posts));
        } else {
          setJobs(page.posts);
          setCursor(page.next_cursor);
        }
      } catch {
        // A missed refresh is no error to show: the next one tries again.
      } finally {
        inFlight = false;
      }
    };
    const timer = window.setInterval(() => void poll(), HISTORY_POLL_MS);
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [unfinished]);

  const act = async (job: Job, what: "retry" | "cancel") => {
    setError(null);
    setNotices(({ [job.job_id]: _, ...rest }) => rest);
    setBusy(job.job_id);
    try {
      const { tasks } = await (what === "retry" ? api.retry(job.job_id) : api.cancel(job.job_id));
      if (what === "cancel") setNotices((old) => ({ ...old, [job.job_id]: cancelOutcome(tasks, hasStarted(job)) }));
      const fresh = await api.job(job.job_id);
      setJobs((old) => (old ?? []).map((j) => (j.job_id === fresh.job_id ? fresh : j)));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(null);
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
          const [label, tone] = jobStatusLabel(job);
          const notice = notices[job.job_id];
          return (
            <li key={job.job_id}>
              <Card>
                <div className="flex flex-wrap items-start justify-between gap-2">
                  <p className="min-w-0 flex-1 break-words whitespace-pre-wrap">{job.content}</p>
                  <Badge tone={tone}>{label}</Badge>
                </div>
                <p className="mt-2 text-sm text-slate-600">{summary(job)}</p>
                {notice && (
                  <div className="mt-3">
                    <Alert tone="success">{notice}</Alert>
                  </div>
                )}
                <div className="mt-3 flex flex-wrap gap-2">
                  <Link className="self-center text-sm text-indigo-700 underline" to={`/jobs/${job.job_id}`}>
                    Details
                  </Link>
                  {job.tasks.some((t) => t.status === "failed") && (
                    <Button variant="secondary" busy={busy === job.job_id} onClick={() => act(job, "retry")}>
                      Retry failed
                    </Button>
                  )}
                  {job.tasks.some((t) => t.status === "queued" || t.status === "retry_scheduled") && (
                    <CancelPost job={job} busy={busy === job.job_id} onConfirm={() => act(job, "cancel")} />
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
