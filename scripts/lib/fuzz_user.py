"""The account scripts/api-fuzz fuzzes as, and the check that its publishes
reached the engine. Standard library only; every request has a timeout.

    fuzz_user.py create BASE EMAIL HANDLE
        Signs up, logs in, verifies the address with the link from the
        development outbox, connects a Manch account through the sandbox's consent page
        (the same steps as tests/api/helpers.rs `connect_manch`) and prints a
        new API token on stdout.

    fuzz_user.py session BASE EMAIL
        Logs the (created) user in again and prints two lines: the Cookie
        header of the new session and its CSRF token, for fuzzing as a
        browser does.

    fuzz_user.py check BASE SANDBOX TOKEN [SECONDS]
        Waits (at most SECONDS, default 60) until no task that is due is still
        under way, then fails unless the sandbox holds at least one post and
        exactly one post per succeeded task (keyed by task id), no other.
"""

import html
import http.cookiejar
import re
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

TIMEOUT = 10


class Fail(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # Each redirect of the OAuth dance is checked, then followed by hand.
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def call(self, method, url, body=None, headers=None, form=False):
        """(status, headers, body text); any status is returned, not raised."""
        data = None
        headers = dict(headers or {})
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode(errors="replace")
        except OSError as error:
            raise Fail(f"{method} {url}: {error}") from error

    def expect(self, status, method, url, **kwargs):
        got, headers, text = self.call(method, url, **kwargs)
        if got != status:
            raise Fail(f"{method} {url}: expected {status}, got {got}: {text[:500]}")
        return headers, text


def verification_token(client, base, email, seconds=15):
    """The token of the newest verification link mailed to EMAIL, read from
    the development outbox page (mail is sent after signup answers)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, page = client.expect(200, "GET", f"{base}/dev/outbox")
        for article in page.split("<article>")[1:]:
            if html.escape(email) in article:
                found = re.search(r'/verify-email\?token=([A-Za-z0-9_-]+)', article)
                if found:
                    return found.group(1)
        time.sleep(0.2)
    raise Fail(f"no verification mail to {email} in {base}/dev/outbox after {seconds} s")


def create(base, email, handle):
    client = Client()
    password = "correct horse battery staple"
    client.expect(
        202, "POST", f"{base}/api/v1/auth/signup", body={"email": email, "password": password}
    )
    _, text = client.expect(
        200, "POST", f"{base}/api/v1/auth/login", body={"email": email, "password": password}
    )
    csrf = json.loads(text)["csrf_token"]
    token = verification_token(client, base, email)
    client.expect(204, "POST", f"{base}/api/v1/auth/verify-email", body={"token": token})

    _, text = client.expect(
        200,
        "POST",
        f"{base}/api/v1/connections/manch/authorize",
        headers={"X-CSRF-Token": csrf},
    )
    authorize_url = json.loads(text)["authorize_url"]
    _, page = client.expect(200, "GET", authorize_url)
    if "Approve" not in page:
        raise Fail(f"GET {authorize_url}: no Approve button on the consent page")
    parts = urllib.parse.urlsplit(authorize_url)
    form = urllib.parse.parse_qsl(parts.query) + [("handle", handle), ("decision", "approve")]
    action = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/oauth/authorize", "", ""))
    headers, _ = client.expect(302, "POST", action, body=form, form=True)
    callback = headers["location"]
    headers, _ = client.expect(302, "GET", callback)
    if not headers["location"].startswith("/?connected=manch"):
        raise Fail(f"GET {callback}: redirected to {headers['location']}, not /?connected=manch")
    _, text = client.expect(200, "GET", f"{base}/api/v1/connections")
    if not any(
        c["handle"] == handle and c["status"] == "active" for c in json.loads(text)["connections"]
    ):
        raise Fail(f"no active Manch connection @{handle} listed after connecting: {text[:500]}")

    _, text = client.expect(
        201,
        "POST",
        f"{base}/api/v1/tokens",
        body={
            "name": "schemathesis",
            "scopes": ["posts:write", "posts:read", "connections", "tokens"],
        },
        headers={"X-CSRF-Token": csrf},
    )
    print(json.loads(text)["token"])
    print(f"fuzz user {email}: Manch account @{handle} connected", file=sys.stderr)


def session(base, email):
    client = Client()
    _, text = client.expect(
        200,
        "POST",
        f"{base}/api/v1/auth/login",
        body={"email": email, "password": "correct horse battery staple"},
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.jar)
    if not cookie:
        raise Fail("login set no session cookie")
    print(cookie)
    print(json.loads(text)["csrf_token"])


def history(client, base, token):
    """Every job of the token's user, all pages."""
    jobs, cursor = [], None
    while True:
        query = "limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        _, text = client.expect(
            200,
            "GET",
            f"{base}/api/v1/posts?{query}",
            headers={"Authorization": f"Bearer {token}"},
        )
        page = json.loads(text)
        jobs += page["posts"]
        cursor = page.get("next_cursor")
        if not cursor:
            return jobs


def due(scheduled_at, now):
    if not scheduled_at:
        return True
    try:
        return datetime.fromisoformat(scheduled_at) <= now
    except ValueError:
        # Beyond what Python parses: a year after 9999, far in the future.
        return False


def under_way(jobs):
    """Tasks that are due and not final: scheduled in the future does not count."""
    now = datetime.now(timezone.utc)
    final = {"succeeded", "failed", "cancelled", "missed"}
    return [
        task
        for job in jobs
        if due(job.get("scheduled_at"), now)
        for task in job["tasks"]
        if task["status"] not in final
    ]


def check(base, sandbox, token, seconds=60):
    client = Client()
    deadline = time.monotonic() + seconds
    while True:
        jobs = history(client, base, token)
        waiting = under_way(jobs)
        if not waiting:
            break
        if time.monotonic() >= deadline:
            states = sorted({t["status"] for t in waiting})
            raise Fail(f"{len(waiting)} due task(s) still {', '.join(states)} after {seconds}s")
        time.sleep(0.5)
    tasks = [task for job in jobs for task in job["tasks"]]
    succeeded = {task["id"] for task in tasks if task["status"] == "succeeded"}
    _, text = client.expect(200, "GET", f"{sandbox}/_sandbox/posts")
    posts = json.loads(text)["posts"]
    # The engine sends each task's id as the post's Idempotency-Key, so a key
    # seen twice (or no key) is a double publish. The sandbox's own
    # `duplicates` also counts a post repeating an earlier one's text, which
    # the fuzzer does on purpose (it publishes "0" more than once).
    keys = [post["idempotency_key"] for post in posts]
    doubles = len(keys) - len(set(keys)) + keys.count(None)
    print(
        f"engine: {len(jobs)} job(s), {len(tasks)} task(s), {len(succeeded)} succeeded; "
        f"sandbox: {len(posts)} post(s), {doubles} under a repeated key"
    )
    if not posts:
        raise Fail("no generated publish reached the Manch sandbox: the engine was never exercised")
    if doubles:
        raise Fail(f"the sandbox received {doubles} double publish(es) (a task sent twice)")
    unmatched = set(keys) - succeeded
    missing = succeeded - set(keys)
    if unmatched or missing:
        raise Fail(
            f"{len(unmatched)} sandbox post(s) match no succeeded task; "
            f"{len(missing)} succeeded task(s) have no sandbox post"
        )


def main(argv):
    try:
        if len(argv) == 4 and argv[0] == "create":
            create(*argv[1:])
        elif len(argv) == 3 and argv[0] == "session":
            session(*argv[1:])
        elif len(argv) in (4, 5) and argv[0] == "check":
            check(*argv[1:4], *(int(s) for s in argv[4:]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Fail as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
