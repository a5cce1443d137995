"""The web UI: pages served by the API's app, each a client of the JSON API.

``mount(app)`` adds the pages (``/``, ``/login``, ``/segments`` ...), the static files
(``/static/...``) and plotly.js, read from the installed ``plotly`` package (no CDN, no copy in
the repository).  The pages hold no SQL or model code: the server renders the shell (labels
in the chosen language, what the user's role may see) and the pages' scripts fetch the data
from ``/api/v1`` with the session cookie.
"""

from segmint.web._pages import mount

__all__ = ["mount"]
