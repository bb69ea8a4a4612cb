"""S3's CORS evaluation, as AWS documents it (the `cors` patch; see patches.py).

AWS uses the first rule that matches the request's origin (one `*` wildcard allowed, whole string),
its method (a preflight's Access-Control-Request-Method) and, on a preflight, every header of
Access-Control-Request-Headers (case-insensitive, one `*` wildcard per AllowedHeader). A preflight
that no rule matches is refused with 403 AccessForbidden, and so is any preflight to a bucket
without CORS; any other request that no rule matches is served without CORS headers.

moto 5.2 instead applies every rule in turn on a preflight (refusing it as soon as one rule lists
other origins), never looks at the method or the requested headers, matches origins as regex
prefixes, and answers a preflight to a bucket without CORS with 200.
"""

from __future__ import annotations

import re

from moto.s3.exceptions import AccessForbidden, BadRequest, S3ClientError
from moto.s3.responses import S3Response

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / "
    "Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)
_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _first_match(bucket, origin: str, method: str, requested: list[str]):
    for rule in bucket.cors:
        if not any(_wildcard(o, origin, False) for o in rule.allowed_origins or []):
            continue
        if method not in (rule.allowed_methods or []):
            continue
        if not all(any(_wildcard(h, r, True) for h in rule.allowed_headers or []) for r in requested):
            continue
        return rule
    return None


def _headers(rule, origin: str, requested: list[str]) -> dict[str, str]:
    wildcard = "*" in (rule.allowed_origins or [])
    headers = {"Access-Control-Allow-Origin": "*" if wildcard else origin, "Access-Control-Allow-Methods": ", ".join(rule.allowed_methods), "Vary": _VARY}
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    if requested:
        headers["Access-Control-Allow-Headers"] = ", ".join(requested)
    if rule.exposed_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.exposed_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    return headers


def _preflight(self: S3Response, headers, bucket) -> None:
    origin = headers.get("Origin")
    method = headers.get("Access-Control-Request-Method")
    if not origin:
        raise BadRequest("Insufficient information. Origin request header needed.")
    if not method:
        raise BadRequest(f"Invalid Access-Control-Request-Method: {method}")
    if not bucket.cors:
        raise AccessForbidden("CORSResponse: CORS is not enabled for this bucket.")
    requested = [h.strip().lower() for h in (headers.get("Access-Control-Request-Headers") or "").split(",") if h.strip()]
    rule = _first_match(bucket, origin, method, requested)
    if rule is None:
        raise AccessForbidden(_NOT_ALLOWED)
    self.response_headers.update(_headers(rule, origin, requested))


def _actual(self: S3Response) -> dict[str, str]:
    origin = self.headers.get("Origin")
    if not origin:
        return {}
    try:
        bucket = self.backend.get_bucket(self.bucket_name)
    except S3ClientError:
        return {}
    rule = _first_match(bucket, origin, self.method, [])
    return _headers(rule, origin, []) if rule else {}


def apply() -> None:
    S3Response._set_cors_headers_options = _preflight
    S3Response._get_cors_headers_other = _actual
