"""The public entry of production: the `proxy` service's nginx (admin_ui/nginx.conf), checked
against compose and the API it fronts. nginx is read as it would read the file (the template
rendered as the image's entrypoint renders it), and each question is asked of the location a real
path reaches: TLS and the redirect, the certificate from the env, compression of the web apps'
assets, the live streams unbuffered, /metrics kept inside, bodies and timeouts above the API's
own limits. Where an `nginx` binary is installed, `nginx -t` checks the whole file too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.conftest import free_port
from tests.support.compose_files import (
    NGINX_CONF,
    PROXY_DOCKERFILE,
    ROOT,
    MissingVariable,
    dockerfile_stages,
    environment,
    interpolate,
    load_services,
)
from tests.support.nginx_conf import Server, parse, seconds, servers, size_bytes

OPENAPI = ROOT / "web_common" / "openapi.json"
ASSET_PATHS = ("/admin/assets/index-abc123.js", "/app/assets/index-abc123.css", "/admin/", "/app/")
# Paths of the API that stay inside the stack: Prometheus scrapes /metrics on the network, the
# compose healthcheck asks /readyz inside the container.
INTERNAL_PATHS = ("/metrics", "/healthz", "/readyz", "/docs", "/openapi.json")
STREAM_WAIT_S = 30.0  # a bound for slow machines, never an expectation


def image_env() -> dict[str, str]:
    """The variables the image's entrypoint substitutes into the template: the Dockerfile's ENV,
    then what compose gives the proxy, and the DNS server the entrypoint finds."""
    _, stages = dockerfile_stages(PROXY_DOCKERFILE)
    env = {}
    for keyword, rest in stages[-1]:
        if keyword == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    proxy = load_services()["proxy"]
    env.update({k: interpolate(v, {}) for k, v in environment(proxy).items()})
    env["NGINX_LOCAL_RESOLVERS"] = "127.0.0.11"  # Docker's DNS, as the entrypoint finds it
    return env


def render(text: str, env: dict[str, str]) -> str:
    """envsubst of the defined variables only, as the entrypoint runs it: nginx's own $variables
    stay as they are."""
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), text)


@pytest.fixture(scope="module")
def rendered() -> str:
    text = render(NGINX_CONF.read_text(), image_env())
    left = re.findall(r"\$\{\w+\}", text)
    assert not left, f"the template uses variables nobody sets: {left}"
    return text


@pytest.fixture(scope="module")
def plain(rendered: str) -> Server:
    found = [s for s in servers(parse(rendered)) if not any("ssl" in a for a in s.listens)]
    assert len(found) == 1, "one plain HTTP server"
    return found[0]


@pytest.fixture(scope="module")
def tls(rendered: str) -> Server:
    found = [s for s in servers(parse(rendered)) if any("ssl" in a for a in s.listens)]
    assert len(found) == 1, "one TLS server"
    return found[0]


def api_paths(*, streams: bool) -> list[str]:
    """Every /api/ path of the API's OpenAPI document (path parameters filled in), the live
    streams (text/event-stream answers) or the others."""
    paths = []
    for template, operations in json.loads(OPENAPI.read_text())["paths"].items():
        if not template.startswith("/api/"):
            continue  # /healthz, /readyz: see INTERNAL_PATHS
        is_stream = any(
            "text/event-stream" in answer.get("content", {})
            for operation in operations.values()
            for answer in operation.get("responses", {}).values()
        )
        if is_stream == streams:
            paths.append(re.sub(r"\{[^}]+\}", "0b6f3c3e-8d7e-4f3a-9a55-3f1f5e0c9d11", template))
    assert paths, "no such path in the OpenAPI document"
    return paths


def proxies_to_api(server: Server, path: str) -> bool:
    return server.setting(path, "proxy_pass") == ["$api_upstream"]


# --- TLS and the redirect -------------------------------------------------------------------------


def test_the_proxy_publishes_https_on_443_and_plain_http_on_80(plain: Server, tls: Server) -> None:
    ports = [interpolate(str(p), {}) for p in load_services()["proxy"]["ports"]]
    container = {p.rsplit(":", 1)[1]: p.split(":")[-2] for p in ports}  # container -> host
    assert tls.listens == [["8443", "ssl"]] and container.get("8443") == "443", (tls.listens, ports)
    assert plain.listens == [["8080"]] and container.get("8080") == "80", (plain.listens, ports)


def test_plain_http_only_redirects_to_https(plain: Server) -> None:
    for path in ("/", "/admin/", "/api/v1/me", "/app/assets/x.js"):
        assert plain.setting(path, "return") == ["301", "https://$host$request_uri"], path
        assert not plain.setting(path, "proxy_pass") and not plain.setting(path, "root"), path


def test_tls_is_1_2_or_1_3_with_forward_secret_aead_ciphers(tls: Server) -> None:
    protocols = tls.setting("/", "ssl_protocols") or []
    assert set(protocols) == {"TLSv1.2", "TLSv1.3"}, protocols
    ciphers = (tls.setting("/", "ssl_ciphers") or [""])[0].split(":")
    weak = [c for c in ciphers if not c.startswith("ECDHE-") or not re.search(r"GCM|CHACHA20", c)]
    assert ciphers and not weak, f"ciphers without forward secrecy or AEAD: {weak}"
    assert tls.setting("/", "ssl_session_tickets") == ["off"]  # no key that outlives sessions


def test_the_certificate_and_key_are_the_files_named_by_the_env(tls: Server) -> None:
    proxy = load_services()["proxy"]
    mounts = {}  # target in the container -> (source on the host, options)
    for volume in proxy.get("volumes", []):
        source, target, options = str(volume).rsplit(":", 2)
        mounts[target] = (source, options)
    for directive, variable in (
        ("ssl_certificate", "TLS_CERT_FILE"),
        ("ssl_certificate_key", "TLS_KEY_FILE"),
    ):
        path = (tls.setting("/", directive) or [""])[0]
        assert path in mounts, f"{directive} {path} is not mounted: {list(mounts)}"
        source, mode = mounts[path]
        assert mode == "ro", f"{path} must be mounted read-only"
        assert interpolate(source, {variable: "/srv/tls/file.pem"}) == "/srv/tls/file.pem"
        with pytest.raises(MissingVariable, match=variable):  # compose refuses to start without
            interpolate(source, {})


def test_hsts_on_every_https_answer_at_the_apis_max_age(tls: Server) -> None:
    default = Settings.model_fields["hsts_max_age_seconds"].default
    for path in (*ASSET_PATHS, "/admin/index.html", "/app/sw.js", "/api/v1/me"):
        headers = {args[0]: args[1] for args in tls.all_settings(path, "add_header")}
        assert headers.get("Strict-Transport-Security") == f"max-age={default}", (path, headers)


# --- the API behind it ----------------------------------------------------------------------------


def test_every_api_route_reaches_the_api_with_the_client_and_the_scheme(tls: Server) -> None:
    for path in api_paths(streams=False) + api_paths(streams=True):
        assert proxies_to_api(tls, path), f"{path} does not reach the API"
        sent = {args[0]: args[1] for args in tls.all_settings(path, "proxy_set_header")}
        assert sent.get("X-Forwarded-Proto") == "https", (path, sent)
        assert sent.get("X-Forwarded-For") == "$remote_addr", (path, sent)  # set, never appended
        # The id the API logs and hands to its workflows is the one nginx logged.
        assert sent.get("X-Request-Id") == "$request_id", (path, sent)
        # The API's own HSTS is replaced by the proxy's: one header, not two.
        hidden = [args[0] for args in tls.all_settings(path, "proxy_hide_header")]
        assert "Strict-Transport-Security" in hidden, (path, hidden)


def test_the_apis_internal_paths_are_not_reachable_from_outside(tls: Server) -> None:
    for path in INTERNAL_PATHS:
        assert not tls.setting(path, "proxy_pass"), f"{path} is proxied to the API"
    upstream = re.search(r"set \$api_upstream http://(\S+);", NGINX_CONF.read_text())
    assert upstream and upstream.group(1) == "${API_UPSTREAM}"


def test_the_live_streams_pass_each_event_on_at_once(tls: Server) -> None:
    keep_alive_s = 15  # the streams' keep-alive comment (api/routes/request_events.py)
    for path in api_paths(streams=True):
        assert tls.setting(path, "proxy_buffering") == ["off"], path
        assert tls.setting(path, "gzip") == ["off"], path
        read_timeout = seconds((tls.setting(path, "proxy_read_timeout") or ["60s"])[0])
        assert read_timeout > 2 * keep_alive_s, (
            f"{path}: a quiet stream is cut after {read_timeout}"
        )


def test_api_answers_are_never_compressed(tls: Server) -> None:
    """gzip over TLS of an answer that holds a secret beside what the client sent leaks it through
    the size (BREACH); the web apps' files hold no secret."""
    for path in api_paths(streams=False):
        assert tls.setting(path, "gzip") == ["off"], path


def test_body_size_and_timeouts_leave_the_api_its_own_answers(tls: Server) -> None:
    """Up to the API's limits nginx passes a request on, so the API answers with its own problem
    (a 413 naming the limit, a 503 after REQUEST_TIMEOUT_SECONDS), not nginx's page."""
    fields = Settings.model_fields
    largest_body = max(fields["max_body_bytes"].default, fields["photo_max_bytes"].default)
    framing = 64 * 1024  # the multipart form around a photo
    for path in api_paths(streams=False):
        limit = size_bytes((tls.setting(path, "client_max_body_size") or ["1m"])[0])
        assert limit >= largest_body + framing, f"{path}: nginx refuses bodies over {limit}"
        read_timeout = seconds((tls.setting(path, "proxy_read_timeout") or ["60s"])[0])
        budget = fields["request_timeout_seconds"].default
        if path.endswith("/photos"):
            budget = fields["upload_timeout_seconds"].default
        assert read_timeout > budget, f"{path}: nginx gives up after {read_timeout} s"


# --- the web apps ---------------------------------------------------------------------------------


def test_the_web_apps_assets_are_sent_compressed(tls: Server) -> None:
    for path in ASSET_PATHS:
        assert not proxies_to_api(tls, path), path
        assert tls.setting(path, "gzip") == ["on"], f"{path} is not compressed"
        assert tls.setting(path, "gzip_static") == ["on"], f"{path}: the build's .gz are not used"
        types = set(tls.setting(path, "gzip_types") or [])
        assert {"application/javascript", "text/css", "image/svg+xml"} <= types, types


# --- nginx itself, where it is installed ----------------------------------------------------------

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
# `make test` installs it (`make nginx`, as root); CI must not pass without what it checks.
if NGINX is None and os.environ.get("CI"):
    raise RuntimeError("nginx is not installed: `make nginx` (apt-get install nginx-light) as root")


def self_signed(where: Path) -> None:
    """cert.pem and key.pem in `where`: a certificate for 127.0.0.1, valid for a day."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def nginx_main_config(server_conf: str, where: Path) -> Path:
    """A main nginx.conf around the rendered server file (what the image's own main file does),
    with its pid, logs and temporary files in `where`."""
    version = subprocess.run([NGINX or "nginx", "-v"], capture_output=True, text=True).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    if found and tuple(map(int, found.groups())) < (1, 25, 1):
        # The image's nginx is 1.28; `http2 on;` came in 1.25.1 (before: `listen ... http2`).
        server_conf = server_conf.replace("http2 on;", "")
    (where / "default.conf").write_text(server_conf)
    temp_paths = "".join(
        f"  {kind}_temp_path {where}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )  # the binary's built-in ones may not exist here
    main = where / "nginx.conf"
    main.write_text(
        f"pid {where}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp_paths}  include {where}/default.conf;\n}}\n"
    )
    return main


@pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed here (Debian: apt-get install nginx-light), so nginx itself "
    "does not check admin_ui/nginx.conf; the tests above read it",
)
def test_nginx_accepts_the_configuration(rendered: str, tmp_path: Path) -> None:
    assert NGINX is not None
    self_signed(tmp_path)
    main = nginx_main_config(rendered.replace("/etc/nginx/tls/", f"{tmp_path}/"), tmp_path)
    result = subprocess.run(
        [NGINX, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# --- nginx serving, where it is installed ---------------------------------------------------------


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in for the API: echoes the headers it got, sends its own HSTS, and holds a live
    stream open after its first event until the test lets it go on."""

    seen: list[tuple[str, dict[str, str]]]
    go_on: threading.Event

    def do_GET(self) -> None:
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.endswith("/events"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"event: first\ndata: {}\n\n")
            self.wfile.flush()
            self.go_on.wait(timeout=2 * STREAM_WAIT_S)  # beyond the client's patience
            self.wfile.write(b"event: second\ndata: {}\n\n")
            return
        body = json.dumps({"headers": self.seen[-1][1], "padding": "x" * 4096}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Strict-Transport-Security", "max-age=5")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed here (see above)")
def test_nginx_serves_tls_redirects_compresses_and_streams(rendered: str, tmp_path: Path) -> None:
    assert NGINX is not None
    seen: list[tuple[str, dict[str, str]]] = []
    go_on = threading.Event()
    handler = type("Upstream", (_Upstream,), {"seen": seen, "go_on": go_on})
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    site = Path(tempfile.mkdtemp(prefix="proxy-site-"))  # readable by nginx's workers
    site.chmod(0o755)
    (site / "admin" / "assets").mkdir(parents=True)
    (site / "admin" / "assets" / "index-abc.js").write_text("console.log('x');\n" * 400)
    http_port, https_port = free_port(), free_port()
    conf = (
        render(
            NGINX_CONF.read_text(),
            {**image_env(), "API_UPSTREAM": f"127.0.0.1:{upstream.server_port}"},
        )
        .replace("/etc/nginx/tls/", f"{tmp_path}/")
        .replace("/usr/share/nginx/html", str(site))
        .replace("listen 8080;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 8443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        .replace("resolver 127.0.0.11", "resolver 127.0.0.1")
    )
    self_signed(tmp_path)
    proc = None
    try:
        main = nginx_main_config(conf, tmp_path)
        proc = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(tmp_path / "nginx.log").open("wb"),
        )  # fmt: skip
        base = f"https://127.0.0.1:{https_port}"
        tls_context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        with httpx.Client(verify=tls_context, timeout=30) as client:
            for _ in range(300):  # until it listens (a bound, not an expectation)
                try:
                    client.get(f"{base}/app/")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, (tmp_path / "nginx.log").read_text()
                    time.sleep(0.1)
            redirect = client.get(f"http://127.0.0.1:{http_port}/admin/?x=1")
            assert redirect.status_code == 301
            assert redirect.headers["location"] == "https://127.0.0.1/admin/?x=1"

            asset = client.get(f"{base}/admin/assets/index-abc.js")
            assert asset.status_code == 200 and asset.headers["content-encoding"] == "gzip"
            assert asset.headers["strict-transport-security"] == "max-age=31536000"

            api = client.get(
                f"{base}/api/v1/me",
                headers={"x-forwarded-for": "6.6.6.6", "x-request-id": "made-up-by-the-client"},
            )
            assert api.status_code == 200 and "content-encoding" not in api.headers
            assert api.headers.get_list("strict-transport-security") == ["max-age=31536000"]
            forwarded = api.json()["headers"]
            assert forwarded["x-forwarded-proto"] == "https"
            assert forwarded["x-forwarded-for"] == "127.0.0.1"  # set: the client's is dropped
            assert re.fullmatch(r"[0-9a-f]{32}", forwarded["x-request-id"])  # nginx's, not theirs

            assert client.get(f"{base}/metrics").status_code == 404
            assert not [path for path, _ in seen if "metrics" in path]

            # The first event arrives while the upstream still holds the stream open: buffered,
            # it would come only when the stream ends, after the client has given up.
            events = f"{base}/api/v1/admin/dashboard/events"
            with client.stream("GET", events, timeout=STREAM_WAIT_S) as stream:
                assert next(stream.iter_lines()) == "event: first"
                go_on.set()
    finally:
        go_on.set()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        upstream.shutdown()
        shutil.rmtree(site, ignore_errors=True)
