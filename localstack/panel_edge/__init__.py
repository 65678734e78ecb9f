"""The panel's edge, locally: what CloudFront does for the staff's panel in prod
(infra/assistec_infra/capabilities/panel.py), on 127.0.0.1.

- ``/api/*`` is proxied to the local API (LocalStack's path-style stage URL, stack.json's
  ``api_url``) with ``/api`` removed, the query string, method, headers and body passed on (``Host``
  set to the upstream's, as CloudFront's AllViewerExceptHostHeader policy does), the answer's status,
  headers and body streamed back;
- every other path is the built panel (web/dist): a path without a file extension is served
  ``index.html`` (the SPA's routes), one with an extension is that file or 404;
- ``/config.json`` is generated (``{"apiBase": "/api", "wsUrl": <stack.json's ws_url or null>}``),
  as the prod deploy writes it;
- every answer carries the same security headers as CloudFront's response headers policy.

The routing rules are rules.py, the JavaScript CloudFront runs rewritten in Python; one table of
cases (tests/fixtures/panel_edge/routes.json) checks both. The headers come from the file the CDK app
reads (infra/assistec_infra/edge/panel_edge.json). Without web/dist every page says, in pt-BR, that
the panel is not built and how to build it.

Run it: ``python -m panel_edge --config FILE [--port 4594]``; `make up` does (devctl/panel_edge_proc.py).
"""
