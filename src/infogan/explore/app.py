"""The explorer's web app: a Flask app factory, its JSON API, and the server that binds it.

    GET  /             the page (static/index.html, which drives the API below)
    GET  /api/model    the run: codes and their sizes, data set, image size, limits
    POST /api/render   JSON latent {seed, categorical, continuous, vary} -> PNG
    POST /api/encode   multipart `image` (PNG or JPEG, optional `invert`) -> Q's codes as JSON

Bad input gets a 4xx answer with JSON {"error": message}. The server writes no file: uploads
stay in memory, and renders are answered from memory.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from flask import Flask, Request, Response, jsonify, request
from PIL import Image
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server as make_wsgi_server

from infogan.errors import InfoGANError
from infogan.explore.upload import MAX_UPLOAD_BYTES, UPLOAD_FORMATS, ImageTooLarge, UnsupportedImage, read_upload
from infogan.generate import Run, code_images, encode, load_run
from infogan.latent import CODE_LIMIT, SEED_LIMIT, LatentSpec
from infogan.visualize import image_grid

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
RENDER_FIELDS = ("seed", "categorical", "continuous", "vary")
STATUS = {UnsupportedImage: 415, ImageTooLarge: 413}  # other InfoGANErrors: 400
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


def create_app(run: Run, trusted_hosts: list[str] | None = None) -> Flask:
    """The explorer for a loaded run. `trusted_hosts`: the Host headers answered (None: any), which
    keeps a web page from reaching a loopback server through a DNS name rebound to 127.0.0.1."""
    app = Flask(__name__)  # serves static/ beside this module under /static
    app.request_class = InMemoryRequest
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES, TRUSTED_HOSTS=trusted_hosts)
    lock = threading.Lock()  # the server answers on several threads; the model runs one request at a time

    @app.get("/")
    def page() -> Response:
        return app.send_static_file("index.html")

    @app.get("/api/model")
    def model_info() -> Response:
        return jsonify(describe(run))

    @app.post("/api/render")
    def render() -> Response:
        seed, categorical, continuous, vary = parse_latent(request.get_json(), run.model.spec)
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
        pixels = read_upload(upload.read(), config.image_size, config.channels, invert == "true")  # (C, H, W)
        with lock:
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
        "limits": {
            "continuous": CODE_LIMIT,
            "training": 1.0,
            "seed": SEED_LIMIT,
            "upload_bytes": MAX_UPLOAD_BYTES,
            "upload_formats": list(UPLOAD_FORMATS),
        },
    }


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


def make_server(
    run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, allow_remote: bool = False, device: str = "auto"
) -> BaseWSGIServer:
    """A threaded server for the explorer of `run_dir`, bound but not yet serving (call
    serve_forever). Hosts other than the loopback ones need `allow_remote`: the page has no login."""
    if host not in LOOPBACK_HOSTS and not allow_remote:
        raise InfoGANError(
            f"--host {host} would let other machines reach the explorer, which has no login: "
            "add --allow-remote if you mean it, or use --host 127.0.0.1"
        )
    if not 0 <= port <= 65535:
        raise InfoGANError(f"--port {port} must lie in 0..65535 (0: any free port)")
    run = load_run(run_dir, device)
    spec = run.model.spec
    code_images(run.model, 0, [0] * len(spec.categorical), [0.0] * spec.continuous)  # one-time setup, not on a user
    app = create_app(run, trusted_hosts=None if allow_remote else list(LOOPBACK_HOSTS))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a moving slider is many requests: log errors only
    try:
        return make_wsgi_server(host, port, app, threaded=True)
    except OSError as error:
        raise InfoGANError(f"cannot listen on {host}:{port} ({error.strerror}): choose another --port") from None
