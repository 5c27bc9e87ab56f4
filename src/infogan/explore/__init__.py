"""`infogan explore RUN`: a local web page to steer a trained generator with its codes.

A slider per continuous code, a selector per categorical code, a seed for the noise, and an upload
box that shows what Q reads in a real image; the page talks to a small JSON API (see app.py).
"""

from infogan.explore.app import create_app, make_server

__all__ = ["create_app", "make_server"]
