"""The web UI: pages served by the API's app, each a client of the JSON API.

``mount(app)`` adds the pages (``/``, ``/login``, ``/segments`` ...), the static files
(``/static/...``) and plotly.js, read from the installed ``plotly`` package (no CDN, no copy in
the repository).  The pages hold no SQL or model code: the server renders the shell (labels
in the chosen language, what the user's role may see) and the pages' scripts fetch the data
from ``/api/v1`` with the session cookie.

The scripts (``static/*.js``) are our own plain browser JavaScript, small and readable:
the issue rules out a CDN and committed third-party minified code, and a framework would
need an npm build step in ``make demo``.  Charts are Plotly's (the same library as the
report).  The builder writes the YAML of a definition itself (no YAML library in the
browser without third-party code); the browser test parses what it shows with PyYAML.
"""

from segmint.web._pages import mount

__all__ = ["mount"]
