// One publish, live: each target's state over Server-Sent Events.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { FINAL_JOB_STATES, type Job } from "../api/types";
import { Alert, Badge, Button, Card, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { describeError, jobStatusText, taskStatusText } from "../lib/status";

export function JobStatusPage() {
  const { id = "" } = useParams();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connection, setConnection] = useState<"live" | "reconnecting" | "closed">("live");
  const [busy, setBusy] = useState(false);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    // EventSource reconnects by itself (sending Last-Event-ID); we only re-read the job.
    const source = new EventSource(`/api/v1/jobs/${id}/events`);
    const refresh = () =>
      api
        .job(id)
        .then(setJob)
        .catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
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
    try {
      await (what === "retry" ? api.retry(id) : api.cancel(id));
      setGeneration((g) => g + 1);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  if (!job) return error ? <Alert>{error}</Alert> : <Spinner label="Loading the publish…" />;
  const [label, tone] = jobStatusText[job.status];
  const final = FINAL_JOB_STATES.includes(job.status);
  const failed = job.tasks.some((t) => t.status === "failed");
  const cancellable = job.tasks.some((t) => t.status === "queued" || t.status === "retry_scheduled");
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-bold">Publish status</h1>
        <span className="flex items-center gap-2" aria-live="polite">
          <Badge tone={tone}>
            <span data-testid="job-status">{label}</span>
          </Badge>
          {connection === "reconnecting" && <span className="text-sm text-amber-700">Reconnecting…</span>}
          {connection === "live" && !final && <span className="text-sm text-slate-500">Live</span>}
        </span>
      </div>
      {error && <Alert>{error}</Alert>}
      <Card>
        <p className="whitespace-pre-wrap">{job.content}</p>
        {job.scheduled_at && (
          <p className="mt-2 text-sm text-slate-600">
            Scheduled for {new Date(job.scheduled_at).toLocaleString()} ({job.time_zone ?? "UTC"})
          </p>
        )}
      </Card>
      <Card>
        <h2 className="mb-3 font-semibold">Targets</h2>
        <ul className="divide-y divide-slate-100">
          {job.tasks.map((task) => {
            const [taskLabel, taskTone] = taskStatusText[task.status];
            const problem = describeError(task.last_error_kind, task.last_error);
            return (
              <li key={task.id} className="py-3" data-testid="task">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <span className="font-medium">
                    {task.platform} {taskTarget(task)}
                  </span>
                  <span className="flex items-center gap-2 text-sm">
                    <Badge tone={taskTone}>{taskLabel}</Badge>
                    <span className="text-slate-500">
                      {task.attempts} {task.attempts === 1 ? "attempt" : "attempts"}
                    </span>
                  </span>
                </div>
                {problem && task.status !== "succeeded" && <p className="mt-1 text-sm text-red-700">{problem}</p>}
                {task.external_url && (
                  <a className="mt-1 inline-block text-sm text-indigo-700 underline" href={task.external_url} target="_blank" rel="noreferrer">
                    View the post
                  </a>
                )}
              </li>
            );
          })}
        </ul>
      </Card>
      <div className="flex gap-2">
        {failed && (
          <Button onClick={() => act("retry")} busy={busy}>
            Retry failed targets
          </Button>
        )}
        {cancellable && (
          <Button variant="secondary" onClick={() => act("cancel")} busy={busy}>
            Cancel
          </Button>
        )}
        <Link to="/history" className="self-center text-sm text-indigo-700 underline">
          All posts
        </Link>
      </div>
    </div>
  );
}
