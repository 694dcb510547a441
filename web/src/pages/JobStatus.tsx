// One publish, live: each target's state over Server-Sent Events; while
// nothing of it has gone out, edit or reschedule it; post it again any time.
import { useEffect, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { FINAL_JOB_STATES, type Job, type Task } from "../api/types";
import { CancelPost, cancelOutcome, hasStarted } from "../components/CancelPost";
import { PlatformLabel } from "../components/PlatformIcon";
import { RescheduleButton } from "../components/Reschedule";
import { Alert, Badge, Button, Card, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { isUuid } from "../lib/ids";
import { platformName } from "../lib/platforms";
import { browserTimeZone } from "../lib/schemas";
import { failureOf } from "../lib/failure";
import {
  isWaitingForSchedule,
  jobStatusLabel,
  localTime,
  publishedAt,
  taskEventOutcome,
  taskEventText,
  taskStatusLabel,
} from "../lib/status";

/** A job's id is a UUID: anything else in the address is no job (and is not sent to the server). */
export function isJobId(id: string): boolean {
  return isUuid(id);
}

const linkStyle = "font-medium text-indigo-700 underline";
/** A link that looks like the secondary button beside it. */
const linkButton =
  "inline-flex items-center justify-center rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50";

/** The page's frame when there is no job to show. */
function NoJob({ children }: { children: ReactNode }) {
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Publish status</h1>
      <Alert tone="warning">{children}</Alert>
    </div>
  );
}

export function JobStatusPage() {
  const { id = "" } = useParams();
  if (!isJobId(id)) {
    return (
      <NoJob>
        This is not a job address.{" "}
        <Link className={linkStyle} to="/history">
          Back to History
        </Link>
      </NoJob>
    );
  }
  // Another job starts afresh.
  return <JobView key={id} id={id} />;
}

/**
 * Why a target did not go out: plain words, the next step for its kind of
 * failure, and the platform's own message below. A cancelled or missed
 * target's reason is Prasaran's, not the platform's, and is said as it is.
 */
function TaskProblem({ task }: { task: Task }) {
  if (task.status === "cancelled" || task.status === "missed") {
    const reason = task.last_error?.trim().replace(/\.+$/, "");
    if (!reason) return null;
    const tone = task.status === "cancelled" ? "text-slate-600" : "text-red-700";
    return <p className={`mt-1 text-sm ${tone}`}>{reason.charAt(0).toUpperCase() + reason.slice(1)}.</p>;
  }
  const failure = failureOf(task);
  if (!failure) return null;
  return (
    <div className="mt-1 text-sm" data-testid="task-problem">
      <p className={failure.retrying ? "text-amber-800" : "text-red-700"}>
        {failure.what}{" "}
        {failure.link ? (
          <>
            <Link className="font-medium underline" to={failure.link}>
              {failure.next.replace(/\.$/, "")}
            </Link>
            .
          </>
        ) : (
          failure.next
        )}
      </p>
      {failure.said && (
        <p className="mt-0.5 text-xs break-words text-slate-600" data-testid="platform-said">
          The platform said: {failure.said}
        </p>
      )}
    </div>
  );
}

/** Every state change of one target, oldest first, folded away until asked for. */
function AttemptHistory({ task }: { task: Task }) {
  const events = task.history ?? [];
  if (events.length === 0) return null;
  const attempts = events.filter((e) => e.to_status === "running").length;
  return (
    <details className="mt-2 text-sm" data-testid="attempt-history">
      <summary className="cursor-pointer text-slate-600">Attempt history ({attempts})</summary>
      <ol className="mt-2 space-y-2 border-l-2 border-slate-200 pl-3">
        {events.map((event, i) => {
          const outcome = taskEventOutcome(event);
          return (
            <li key={i} data-testid="attempt-event">
              <time className="text-slate-500" dateTime={event.at}>
                {localTime(event.at)}
              </time>{" "}
              <span className="font-medium">{taskEventText(event)}</span>
              {outcome && <span className="text-slate-600"> — {outcome}</span>}
              {event.detail && <p className="break-words text-slate-600">{event.detail}</p>}
            </li>
          );
        })}
      </ol>
    </details>
  );
}

function JobView({ id }: { id: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [connection, setConnection] = useState<"live" | "reconnecting" | "closed">("live");
  const [busy, setBusy] = useState(false);
  const [copying, setCopying] = useState(false);
  const [generation, setGeneration] = useState(0);
  const navigate = useNavigate();

  useEffect(() => {
    // EventSource reconnects by itself (sending Last-Event-ID); we only re-read the job.
    const source = new EventSource(`/api/v1/jobs/${id}/events`);
    const refresh = () =>
      api
        .job(id)
        .then(setJob)
        .catch((e) => {
          if (e instanceof ApiError && e.status === 404) setMissing(true);
          else setError(e instanceof ApiError ? e.message : String(e));
        });
    source.addEventListener("snapshot", (e) => {
      setJob(JSON.parse((e as MessageEvent).data));
      setConnection("live");
    });
    source.addEventListener("transition", () => {
      setConnection("live");
      void refresh();
    });
    source.addEventListener("end", () => {
      source.close();
      setConnection("closed");
      void refresh();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setConnection("closed");
        void refresh();
      } else {
        setConnection("reconnecting");
      }
    };
    return () => source.close();
  }, [id, generation]);

  const act = async (what: "retry" | "cancel") => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (what === "retry") {
        await api.retry(id);
      } else {
        const started = job ? hasStarted(job) : true;
        const { tasks } = await api.cancel(id);
        setNotice(cancelOutcome(tasks, started));
      }
      setGeneration((g) => g + 1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setMissing(true);
      else setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  /** "Post again": a new draft from this post, opened in the composer. */
  const postAgain = async (postId: string) => {
    setCopying(true);
    setError(null);
    setNotice(null);
    try {
      const draft = await api.duplicatePost(postId);
      navigate(`/compose?draft=${draft.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setCopying(false);
    }
  };

  if (missing) {
    return (
      <NoJob>
        No such job — it may belong to another account, or the link is wrong.{" "}
        <Link className={linkStyle} to="/history">
          History
        </Link>{" "}
        ·{" "}
        <Link className={linkStyle} to="/">
          Dashboard
        </Link>
      </NoJob>
    );
  }
  if (!job) return error ? <Alert>{error}</Alert> : <Spinner label="Loading the publish…" />;
  const [label, tone] = jobStatusLabel(job);
  const final = FINAL_JOB_STATES.includes(job.status);
  const failed = job.tasks.some((t) => t.status === "failed");
  const cancellable = job.tasks.some((t) => t.status === "queued" || t.status === "retry_scheduled");
  const published = publishedAt(job);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-bold">Publish status</h1>
        <span className="flex items-center gap-2" aria-live="polite">
          <Badge tone={tone}>
            <span data-testid="job-status">{label}</span>
          </Badge>
          {connection === "reconnecting" && <span className="text-sm text-amber-700">Reconnecting…</span>}
          {connection === "live" && !final && (
            // The page follows the publish as it happens (not: the post is live).
            <span className="text-sm text-slate-500" data-testid="live-updates">
              Updating live
            </span>
          )}
        </span>
      </div>
      {notice && <Alert tone="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      <Card>
        <p className="whitespace-pre-wrap">{job.content}</p>
        {job.scheduled_at && !isWaitingForSchedule(job) && (
          // While it waits, the status above says when it goes.
          <p className="mt-2 text-sm text-slate-600">
            Scheduled for {localTime(job.scheduled_at)} ({job.time_zone ?? "UTC"})
          </p>
        )}
        {published && (
          <p className="mt-2 text-sm text-slate-600" data-testid="job-published-at">
            Published {localTime(published)}
          </p>
        )}
      </Card>
      <Card>
        <h2 className="mb-3 font-semibold">Targets</h2>
        <ul className="divide-y divide-slate-100">
          {job.tasks.map((task) => {
            const [taskLabel, taskTone] = taskStatusLabel(task);
            return (
              <li key={task.id} className="py-3" data-testid="task">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <span className="font-medium">
                    <PlatformLabel platform={task.platform}>
                      {platformName(task.platform)} {taskTarget(task)}
                    </PlatformLabel>
                  </span>
                  <span className="flex items-center gap-2 text-sm">
                    <Badge tone={taskTone}>{taskLabel}</Badge>
                    {task.status === "succeeded" && task.completed_at && (
                      <time className="text-slate-500" dateTime={task.completed_at}>
                        {localTime(task.completed_at)}
                      </time>
                    )}
                    <span className="text-slate-500">
                      {task.attempts} {task.attempts === 1 ? "attempt" : "attempts"}
                    </span>
                  </span>
                </div>
                {task.content != null && task.content !== job.content && (
                  <p className="mt-1 text-sm text-slate-600" data-testid="task-own-text">
                    Its own text: <span className="whitespace-pre-wrap text-slate-800">{task.content}</span>
                  </p>
                )}
                <TaskProblem task={task} />
                {task.external_url && (
                  <a className="mt-1 inline-block text-sm text-indigo-700 underline" href={task.external_url} target="_blank" rel="noreferrer">
                    View the post
                  </a>
                )}
                <AttemptHistory task={task} />
              </li>
            );
          })}
        </ul>
      </Card>
      <div className="flex flex-wrap items-center gap-2">
        {failed && (
          <Button onClick={() => act("retry")} busy={busy}>
            Retry failed targets
          </Button>
        )}
        {job.editable && (
          <>
            <Link className={linkButton} to={`/compose?post=${job.post_id}&job=${job.job_id}`}>
              Edit
            </Link>
            <RescheduleButton
              job={job}
              zone={browserTimeZone()}
              variant="secondary"
              onDone={(fresh) => {
                setJob(fresh);
                setError(null);
                setNotice(
                  fresh.scheduled_at
                    ? `Rescheduled for ${localTime(fresh.scheduled_at)}.`
                    : "Rescheduled: it goes out now.",
                );
              }}
            />
          </>
        )}
        {cancellable && <CancelPost job={job} busy={busy} variant="secondary" onConfirm={() => act("cancel")} />}
        <Button variant="secondary" busy={copying} onClick={() => void postAgain(job.post_id)}>
          Post again
        </Button>
        <Link to="/history" className="self-center text-sm text-indigo-700 underline">
          All posts
        </Link>
      </div>
    </div>
  );
}
