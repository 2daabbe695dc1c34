"""Who may see what of health and metrics: no secrets needed, none leaked.

- `/health` and `/health/ready` answer everyone; anonymous callers see component names and
  states only. A caller bearing `METRICS_TOKEN` also sees errors, timings and details.
- `/metrics` is served to the addresses in `METRICS_ALLOW_FROM` (default: this machine) or to a
  caller bearing `METRICS_TOKEN`. The address is the client's as uvicorn sees it: behind a
  reverse proxy on the same machine that proxy must send X-Forwarded-For.
"""

from __future__ import annotations

import hmac
from ipaddress import IPv6Address, ip_address

from starlette.requests import Request

from hackops.config import Settings
from hackops.errors import Forbidden


class MetricsForbidden(Forbidden):
    code = "metrics_forbidden"
    message = (
        "Metrics are served only to the addresses in METRICS_ALLOW_FROM or with the metrics token."
    )


def bears_metrics_token(request: Request, settings: Settings) -> bool:
    if settings.metrics_token is None:
        return False
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected)


def from_allowed_address(request: Request, settings: Settings) -> bool:
    try:
        address = ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_networks)


def require_metrics_access(request: Request, settings: Settings) -> None:
    if not (from_allowed_address(request, settings) or bears_metrics_token(request, settings)):
        raise MetricsForbidden()
