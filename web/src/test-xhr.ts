// A stand-in XMLHttpRequest for tests of uploads: records what was sent and
// lets the test decide when, and how, the server answers.
export class FakeXhr {
  static sent: FakeXhr[] = [];

  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown = undefined;
  status = 0;
  responseText = "";
  aborted = false;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }

  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }

  getResponseHeader() {
    return null;
  }

  send(body: unknown) {
    this.body = body;
    FakeXhr.sent.push(this);
  }

  abort() {
    this.aborted = true;
    this.onabort?.();
  }

  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }

  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

/** A media view as the server answers an upload. */
export function mediaView(id: string, fields: Record<string, unknown> = {}) {
  return {
    id,
    kind: "image",
    mime: "image/png",
    bytes: 74,
    width: 8,
    height: 8,
    duration_ms: null,
    sha256: "ae35",
    alt_text: "",
    created_at: "2026-01-01T00:00:00Z",
    thumbnail_url: `/api/v1/media/${id}/thumbnail`,
    ...fields,
  };
}
