"""The requests moto cannot authenticate, authenticated the way S3 does, in front of moto.

With IAM enforcement on, moto answers every presigned URL with a 500 (it looks for an Authorization
header) and every CORS preflight too; with it off, nothing in a presigned URL is checked and the
request lands in moto's default account. This WSGI layer verifies query-string SigV4 (signature,
expiry, session token and expiry, the signer's permissions), lets preflights through unsigned as S3
does, and hands both to moto in the account that owns the bucket, marked as already authenticated.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import json
import secrets
import threading
import uuid
from urllib.parse import quote, unquote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends

import patches

# Set by this layer on requests it has authenticated; a fresh secret per process, stripped from
# anything a client sends, so it cannot be forged.
_VERIFIED_HEADER = "X-Bucketlink-Verified"
_VERIFIED_ENV = "HTTP_X_BUCKETLINK_VERIFIED"
_VERIFIED_TOKEN = secrets.token_hex(16)
_MAX_EXPIRES = 604800


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _s3_error_response(start_response, err: S3Error):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{err.code}</Code><Message>{err.message}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    start_response(
        f"{err.status} {reasons.get(err.status, 'Error')}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _json_response(start_response, status: str, payload: object):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _skip_auth_for_verified(original):
    def wrapper(self, *args, **kwargs):
        if self.headers.get(_VERIFIED_HEADER) == _VERIFIED_TOKEN:
            return None
        return original(self, *args, **kwargs)

    return wrapper


def apply() -> None:
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _skip_auth_for_verified(
        ActionAuthenticatorMixin._authenticate_and_authorize_action
    )


def _raw_path_and_query(environ) -> tuple[str, str]:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    path, _, query = raw.partition("?")
    return path, query if query else environ.get("QUERY_STRING", "")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _bucket_owner(bucket: str) -> str | None:
    owner = s3_backends.bucket_accounts.get(bucket)
    return owner[1] if owner else None


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _signature(secret: str, scope: list[str], string_to_sign: str) -> str:
    key = ("AWS4" + secret).encode()
    for part in scope:
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _action_for(method: str, key: str) -> str:
    if not key:
        return "s3:ListBucket"
    return {"PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}.get(method, "s3:GetObject")


def _verify_presigned(environ, method: str, path: str, pairs: list[tuple[str, str]], bucket: str, key: str):
    params = dict(pairs)
    missing = [p for p in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature") if p not in params]
    if missing or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise S3Error(400, "AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
    credential = params["X-Amz-Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        raise S3Error(400, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter.")
    access_key_id, scope = credential[0], credential[1:]
    principal = patches.find_principal(access_key_id)
    if principal is None:
        raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    if principal.session_token is not None and params.get("X-Amz-Security-Token") != principal.session_token:
        raise S3Error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")

    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}"
        for k, v in sorted(pairs)
        if k != "X-Amz-Signature"
    )
    signed_headers = params["X-Amz-SignedHeaders"].split(";")
    canonical_headers = "".join(
        f"{h}:{' '.join(environ.get('HTTP_' + h.upper().replace('-', '_'), '').split())}\n" for h in signed_headers
    )
    canonical_request = "\n".join(
        [
            method,
            quote(unquote(path), safe="/~"),
            canonical_query,
            canonical_headers,
            params["X-Amz-SignedHeaders"],
            params.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ]
    )
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], "/".join(scope), hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    if not hmac.compare_digest(_signature(principal.secret_access_key, scope, string_to_sign), params["X-Amz-Signature"]):
        raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")

    try:
        signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        raise S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed.") from None
    if not 1 <= expires <= _MAX_EXPIRES:
        raise S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800 seconds.")
    now = patches.now()
    if now > signed_at + datetime.timedelta(seconds=expires):
        raise S3Error(403, "AccessDenied", "Request has expired")
    if principal.expiration is not None and principal.expiration <= now:
        raise S3Error(400, "ExpiredToken", "The provided token has expired.")

    owner = _bucket_owner(bucket)
    if owner is None:
        raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
    resource = f"arn:{principal.caller.partition}:s3:::{bucket}" + (f"/{key}" if key else "")
    allowed = principal.allows(_action_for(method, key), resource)
    # Cross-account access would also need a bucket policy, which this emulator does not evaluate.
    if owner != principal.caller.account or not allowed:
        raise S3Error(403, "AccessDenied", "Access Denied")
    if method == "GET" and key:
        _require_kms_decrypt(principal, owner, bucket, key, scope[1])
    return owner


def _require_kms_decrypt(principal, owner: str, bucket: str, key: str, region: str) -> None:
    """S3 decrypts an SSE-KMS object as the caller: without kms:Decrypt on its key, the GET is
    refused with AWS's words (moto serves it). HEAD needs no key, as on AWS."""
    partition = principal.caller.partition
    stored = s3_backends[owner][partition].buckets[bucket].keys.get(key)
    if stored is None or getattr(stored, "encryption", None) != "aws:kms" or not stored.kms_key_id:
        return
    key_arn = stored.kms_key_id if stored.kms_key_id.startswith("arn:") else f"arn:{partition}:kms:{region}:{owner}:key/{stored.kms_key_id}"
    # What KMS sees when S3 decrypts for the caller: S3 in this region, the object's ARN as context.
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    context = {"kms:ViaService": f"s3.{region}.{suffix}", "kms:EncryptionContext:aws:s3:arn": f"arn:{partition}:s3:::{bucket}/{key}"}
    if not principal.allows("kms:Decrypt", key_arn, context):
        raise S3Error(
            403,
            "AccessDenied",
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        )


class Middleware:
    """WSGI layer in front of moto's app: our admin endpoints, presigned URLs, preflights."""

    def __init__(self, app, verify: bool = True):
        self.app = app
        self.verify = verify
        self._admin_keys: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        # Calls per action (sts:AssumeRole, dynamodb:GetItem, ...), for benchmarks: GET /_bucketlink/stats.
        self._calls: dict[str, int] = {}

    def _count(self, environ, raw_form: bytes | None) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = None
        services = {"DynamoDB_": "dynamodb", "AmazonSQS": "sqs", "AWSEvents": "events"}
        prefix = next((service for known, service in services.items() if target.startswith(known)), None)
        if prefix:
            action = f"{prefix}:{target.partition('.')[2]}"
        elif raw_form and b"Action=" in raw_form:
            name = raw_form.split(b"Action=", 1)[1].split(b"&", 1)[0].decode()
            action = ("sts:" if name.startswith(("AssumeRole", "GetCallerIdentity")) else "query:") + name
        else:
            action = "http:" + environ["REQUEST_METHOD"]
        with self._lock:
            self._calls["requests"] = self._calls.get("requests", 0) + 1
            if action:
                self._calls[action] = self._calls.get(action, 0) + 1

    def __call__(self, environ, start_response):
        environ.pop(_VERIFIED_ENV, None)
        patches.request_body.value = None
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            patches.request_body.value = raw
        path, query = _raw_path_and_query(environ)
        method = environ["REQUEST_METHOD"]
        if path.startswith("/_bucketlink/"):
            return self._admin(environ, start_response, path, method)
        self._count(environ, patches.request_body.value)
        if not self.verify or "HTTP_AUTHORIZATION" in environ or path.startswith("/moto-api") or not patches.auth_enforced():
            return self.app(environ, start_response)

        pairs = _query_pairs(query)
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        try:
            if method == "OPTIONS":
                owner = _bucket_owner(bucket)
                if owner is None:
                    raise S3Error(403, "AccessForbidden", "CORSResponse: Bucket not found")
                # A preflight's answer depends only on the bucket's CORS rules; moto's object path
                # would first refuse the anonymous request by the object's ACL.
                environ["PATH_INFO"] = f"/{bucket}"
                for env_key in ("RAW_URI", "REQUEST_URI"):
                    environ.pop(env_key, None)
            elif any(k == "X-Amz-Signature" for k, _ in pairs):
                # moto serves a key to an unsigned request only when the URL still looks presigned.
                owner = _verify_presigned(environ, method, path, pairs, bucket, key)
            else:
                raise S3Error(403, "AccessDenied", "Access Denied")
        except S3Error as err:
            return _s3_error_response(start_response, err)
        environ[_VERIFIED_ENV] = _VERIFIED_TOKEN
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = owner
        return self.app(environ, start_response)

    def _admin(self, environ, start_response, path: str, method: str):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        if path == "/_bucketlink/health":
            return _json_response(start_response, "200 OK", {"ok": True})
        if path == "/_bucketlink/stats" and method == "GET":
            with self._lock:
                return _json_response(start_response, "200 OK", dict(self._calls))
        if path == "/_bucketlink/clock" and method == "POST":
            offset = patches.advance_clock(float(body.get("advance_seconds", 0)))
            return _json_response(start_response, "200 OK", {"offset_seconds": offset})
        if path == "/_bucketlink/accounts" and method == "POST":
            return _json_response(start_response, "200 OK", self._admin_user(str(body["account_id"])))
        return _json_response(start_response, "404 Not Found", {"error": f"no such endpoint {method} {path}"})

    def _admin_user(self, account_id: str) -> dict[str, str]:
        """An administrator in the account, the way an account's owner starts: everything allowed."""
        if not (account_id.isdigit() and len(account_id) == 12):
            raise ValueError(f"account id must be 12 digits, got {account_id!r}")
        with self._lock:
            if account_id not in self._admin_keys:
                iam = iam_backends[account_id]["aws"]
                iam.create_user(None, "admin", "/", None)
                iam.put_user_policy(
                    "admin",
                    "everything",
                    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                )
                key = iam.create_access_key("admin")
                self._admin_keys[account_id] = {
                    "account_id": account_id,
                    "access_key_id": key.access_key_id,
                    "secret_access_key": key.secret_access_key,
                }
            return self._admin_keys[account_id]
