"""The REST API: ``create_app(project_dir)`` builds the FastAPI app ``segmint serve`` runs.

JSON under ``/api/v1`` (OpenAPI at ``/docs``), authenticated by API tokens or the web
UI's session cookie, with roles viewer < analyst < admin; reads come from the project's
serving replica (:mod:`segmint.serving`), never the live store. See docs/api.md.
"""

from segmint.api._app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
