"""The explorer's web app: a Flask app factory, its JSON API, and the server that binds it.

    GET  /             the page (static/index.html, which drives the API below)
    GET  /api/model    the run: codes and their sizes, data set, image size, limits
    POST /api/render   JSON latent {seed, categorical, continuous, vary} -> PNG
    POST /api/encode   multipart `image` (PNG or JPEG, optional `invert`) -> Q's codes as JSON

Bad input gets a 4xx answer with JSON {"error": message}. The server writes no file: uploads
stay in memory, and renders are answered from memory. Requests are answered only for the Host
names of the bind (DNS rebinding) and, when they change or cost something (POST), only from the
page's own origin (cross-site request forgery).
"""

from __future__ import annotations

import base64
import io
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import torch
from flask import Flask, Request, Response, jsonify, request
from PIL import Image
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server as make_wsgi_server

from infogan.data.folder import ImageTooLarge
from infogan.errors import InfoGANError
from infogan.explore.upload import MAX_UPLOAD_BYTES, UPLOAD_FORMATS, UnsupportedImage, decode_upload, open_upload
from infogan.generate import code_images, encode
from infogan.latent import CODE_LIMIT, SEED_LIMIT, LatentSpec
from infogan.run_folder import Run, load_run
from infogan.visualize import image_grid

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # every interface of the machine
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # the page and /api/model: cheap, and they change nothing
RENDER_FIELDS = ("seed", "categorical", "continuous", "vary")


class CrossSiteRequest(InfoGANError):
    """A POST sent by a page of another origin (HTTP 403)."""


STATUS = {UnsupportedImage: 415, ImageTooLarge: 413, CrossSiteRequest: 403}  # other InfoGANErrors: 400
SECURITY_HEADERS = {
    # Scripts and styles only from this server; images also from the blob: and data: URLs the page makes.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class InMemoryRequest(Request):
    """Keeps uploaded files in memory rather than in spooled temporary files: requests are at most
    MAX_UPLOAD_BYTES, and so the server writes no file at all."""

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO()


def create_app(run: Run, trusted_hosts: Sequence[str] | None = None) -> Flask:
    """The explorer for a loaded run. `trusted_hosts`: the host names (without port; IPv6 without
    brackets) a Host header may give (None: any), which keeps a web page from reaching the server
    through a DNS name rebound to its address. Checked here rather than by Flask's TRUSTED_HOSTS,
    which cannot match an IPv6 Host such as [::1]:8000."""
    app = Flask(__name__)  # serves static/ beside this module under /static
    app.request_class = InMemoryRequest
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    trusted = None if trusted_hosts is None else {name.lower() for name in trusted_hosts}
    lock = threading.Lock()  # the server answers on several threads; the model runs one request at a time

    @app.before_request
    def same_host_and_origin() -> None:
        host = request.headers.get("Host", "")
        if trusted is not None and host_name(host) not in trusted:
            raise InfoGANError(
                f"Host {host!r} is not trusted: open the page by one of the names {', '.join(sorted(trusted))} "
                "(or start the explorer with --trusted-host NAME)"
            )
        if request.method not in SAFE_METHODS and not same_origin(request, host):
            raise CrossSiteRequest("cross-site request refused: only the explorer's own page may send it")

    @app.get("/")
    def page() -> Response:
        return app.send_static_file("index.html")

    @app.get("/api/model")
    def model_info() -> Response:
        return jsonify(describe(run))

    @app.post("/api/render")
    def render() -> Response:
        try:
            body = request.get_json()  # 415 unless JSON, 400 when it does not parse
        except RecursionError:
            raise InfoGANError("the JSON body is nested too deeply: send one flat object of the latent") from None
        seed, categorical, continuous, vary = parse_latent(body, run.model.spec)
        start = time.perf_counter()
        with lock:
            images, columns = code_images(run.model, seed, categorical, continuous, vary)  # (N, C, H, W)
        response = Response(png_bytes(image_grid(images, columns)), mimetype="image/png")
        response.headers["Server-Timing"] = f"render;dur={(time.perf_counter() - start) * 1000:.1f}"
        return response

    @app.post("/api/encode")
    def encode_upload() -> Response:
        upload = request.files.get("image")
        if upload is None:
            raise InfoGANError("send the image as the multipart form field 'image'")
        invert = request.form.get("invert", "false")
        if invert not in ("true", "false"):
            raise InfoGANError(f"invert must be true or false, got {invert!r}")
        config = run.config
        if invert == "true" and not offers_invert(config.channels):
            raise InfoGANError("invert is for grey models (dark strokes on light paper): this model reads RGB images")
        image = open_upload(upload.read())  # the header only: 413 and 415 come back at once
        with lock:  # decoding is bounded like rendering: one image at a time, so memory stays bounded
            pixels = decode_upload(image, config.image_size, config.channels, invert == "true")  # (C, H, W)
            logits, means = encode(run.model, torch.from_numpy(pixels)[None])  # [(1, K_i)], (1, n_cont)
        return jsonify(codes_found(run.model.spec, logits, means) | {"input": png_data_url(pixels)})

    @app.errorhandler(InfoGANError)
    def bad_input(error: InfoGANError) -> tuple[Response, int]:
        return jsonify(error=str(error)), STATUS.get(type(error), 400)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
        return jsonify(error=f"requests are limited to {MAX_UPLOAD_BYTES // 2**20} MiB: send a smaller image"), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(error=error.description), error.code or 500

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def describe(run: Run) -> dict[str, Any]:
    """What the page needs to build its controls, and the limits the API enforces."""
    spec, config = run.model.spec, run.config
    return {
        "run": str(run.directory.resolve()),
        "step": run.step,
        "dataset": config.dataset,
        "data": config.data_dir,
        "image_size": config.image_size,
        "channels": config.channels,
        "noise": spec.noise,
        "categorical": list(spec.categorical),
        "continuous": spec.continuous,
        "code_names": spec.code_names(),
        "invert": offers_invert(config.channels),
        "limits": {
            "continuous": CODE_LIMIT,
            "training": 1.0,
            "seed": SEED_LIMIT,
            "upload_bytes": MAX_UPLOAD_BYTES,
            "upload_formats": list(UPLOAD_FORMATS),
        },
    }


def offers_invert(channels: int) -> bool:
    """Whether uploads may be inverted: dark strokes on light paper are a grey model's (MNIST's light
    strokes on black), not a photo model's."""
    return channels == 1


def parse_latent(body: Any, spec: LatentSpec) -> tuple[int, list[int], list[float], int | None]:
    """A render request's JSON -> (seed, categorical, continuous, vary), checking the JSON types;
    code_latent checks the values. Missing fields: seed 0, every code 0, one image."""
    if not isinstance(body, dict):
        raise InfoGANError(f"the body must be a JSON object with the fields {', '.join(RENDER_FIELDS)}")
    unknown = sorted(set(body) - set(RENDER_FIELDS))
    if unknown:
        raise InfoGANError(f"unknown field(s) {', '.join(unknown)}: the fields are {', '.join(RENDER_FIELDS)}")
    seed, vary = body.get("seed", 0), body.get("vary")
    categorical = body.get("categorical", [0] * len(spec.categorical))
    continuous = body.get("continuous", [0.0] * spec.continuous)
    if not is_int(seed):
        raise InfoGANError(f"seed must be an integer, got {seed!r}")
    if not (isinstance(categorical, list) and all(map(is_int, categorical))):
        raise InfoGANError(f"categorical must be a list of integers, got {categorical!r}")
    if not (isinstance(continuous, list) and all(is_int(v) or isinstance(v, float) for v in continuous)):
        raise InfoGANError(f"continuous must be a list of numbers, got {continuous!r}")
    if not (vary is None or is_int(vary)):
        raise InfoGANError(f"vary must be null or the index of a categorical code, got {vary!r}")
    return seed, categorical, [float(v) for v in continuous], vary


def host_name(host: str) -> str:
    """The name in a Host header: '[::1]:8000' -> '::1', 'LocalHost:80' -> 'localhost' ('' when malformed)."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return ""


def same_origin(req: Request, host: str) -> bool:
    """Whether a state-changing or costly request comes from the page itself (CSRF): its Origin, or
    its Referer when a browser sends no Origin, must name the Host it was sent to. A multipart POST
    is a "simple" request that any web page may send cross-site without a CORS preflight. Requests
    with neither header pass: browsers always send Origin on a POST (the page's own fetches
    included), so only non-browser clients such as curl or a script omit both, and those have no
    victim's browser to borrow."""
    source = req.headers.get("Origin") or req.headers.get("Referer")
    if source is None:
        return True
    try:
        return urlsplit(source).netloc.lower() == host.lower()  # "null" (sandboxed frames, file:) never matches
    except ValueError:
        return False


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not 1 here


def codes_found(spec: LatentSpec, logits: list[torch.Tensor], means: torch.Tensor) -> dict[str, Any]:
    """Q's reading of one image: the most likely value and the probabilities of each categorical
    code, and the mean of each continuous code."""
    names = spec.code_names()
    categorical = [
        {"name": name, "value": int(code[0].argmax()), "probabilities": torch.softmax(code[0], 0).tolist()}
        for name, code in zip(names[: len(logits)], logits, strict=True)
    ]
    continuous = [
        {"name": name, "value": value} for name, value in zip(names[len(logits) :], means[0].tolist(), strict=True)
    ]
    return {"categorical": categorical, "continuous": continuous}


def png_bytes(image: Image.Image) -> bytes:
    """PNG with Pillow's defaults: the same bytes as `infogan sample` writes for the same image."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(pixels: np.ndarray) -> str:
    """(C, H, W) uint8 -> a data: URL of the PNG, to show the page what Q was given."""
    image = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def is_loopback(host: str) -> bool:
    """localhost, or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hosts_to_trust(host: str, names: Sequence[str] = ()) -> list[str] | None:
    """The Host names a server bound to `host` answers: `host` itself, and the loopback names for a
    loopback bind; plus `names` (--trusted-host). None (any) for a wildcard bind without names,
    whose page can be reached by any name of the machine."""
    bound = [] if host in WILDCARD_HOSTS else [host, *(LOOPBACK_HOSTS if is_loopback(host) else ())]
    return [*bound, *names] or None


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or an InfoGANError that says what to change (werkzeug
    would print its own message and exit 1)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise InfoGANError(
            f"--host {host} is not a name or address of this machine ({reason}): try 127.0.0.1"
        ) from None
    try:
        return socket.create_server(address, family=family)
    except OSError as error:  # in use, not an address of this machine, a privileged port...
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise InfoGANError(f"cannot listen on {host}:{port} ({reason}): choose another --port or --host") from None


def make_server(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_remote: bool = False,
    device: str = "auto",
    trusted_hosts: Sequence[str] = (),
) -> BaseWSGIServer:
    """A threaded server for the explorer of `run_dir`, bound but not yet serving (call
    serve_forever; `server.port` is the port bound). Hosts other than the loopback ones need
    `allow_remote`: the page has no login. `trusted_hosts`: more Host names to answer (see
    hosts_to_trust)."""
    if not is_loopback(host) and not allow_remote:
        raise InfoGANError(
            f"--host {host} would let other machines reach the explorer, which has no login: "
            "add --allow-remote if you mean it, or use --host 127.0.0.1"
        )
    if not 0 <= port <= 65535:
        raise InfoGANError(f"--port {port} must lie in 0..65535 (0: any free port)")
    trusted = hosts_to_trust(host, trusted_hosts)
    with listen(host, port) as bound:  # first, so that a port in use is said at once; werkzeug takes a duplicate
        run = load_run(run_dir, device)
        spec = run.model.spec
        code_images(run.model, 0, [0] * len(spec.categorical), [0.0] * spec.continuous)  # one-time setup
        app = create_app(run, trusted)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a moving slider is many requests: log errors only
        server = make_wsgi_server(bound.getsockname()[0], port, app, threaded=True, fd=bound.fileno())
    if not is_loopback(host):
        log.warning(
            "the explorer on %s:%d is reachable from the network and has no login: anyone who can reach this "
            "machine can use it%s",
            host or "*",
            server.port,
            "" if trusted else "; any Host name is answered (add --trusted-host NAME to keep DNS rebinding out)",
        )
    return server
