"""Settings for benchmark runs: the production settings, plus the reference view and per-request timing headers.

Everything else (DEBUG off, middleware, database options, sessions, CSP, secure cookies) is config.settings as
deployed, so the student pages and the reference view are served under the same conditions.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# Outermost, so its timing covers every other middleware as well as the view.
MIDDLEWARE = ["bench.middleware.timing", *MIDDLEWARE]
# The bench collects static files into a temporary folder: templates need the manifest, nobody serves the files.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
