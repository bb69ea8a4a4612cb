"""Where moto 5.2 answers unlike AWS in ways bucketlink depends on, make it answer like AWS.

Each patch is named, small, and pinned by a Rust test that shows stock moto getting it wrong
(tests/emulator_patches.rs starts the launcher once with --stock to prove each patch is needed):

- trust:    AssumeRole evaluates the role's trust policy in the role's own account (moto looks the
            role up in the caller's account and, failing, hands out credentials to anyone).
- session:  a session policy passed to AssumeRole limits the session, as on AWS: a request is
            allowed only when the role's policies and the session policy both allow it (moto
            keeps the policy and ignores it).
- policy:   identity policies are evaluated by policy.py with the request's condition keys
            (`s3:prefix`, `sts:ExternalId`, `aws:ResourceAccount`), and DynamoDB calls against the
            table (or index) they name, not "*".
- expiry:   temporary credentials stop working when their session expires.
- body:     signatures of form-encoded requests (CloudFormation, IAM, STS) are checked over the
            body as sent; moto re-encodes the parsed form, which differs from the Rust SDK's
            encoding for characters such as ! ' ( ) * and fails large template bodies.
- errors:   these denials come back in the called service's own error format, which the Rust SDK
            parses (moto's generic <ErrorResponse><Errors> shape reads as an unknown error).
- events:   an event delivered to a rule's target carries its `account`, as on AWS (moto's default
            input template leaves it out).
- cors:     (cors.py) S3's CORS evaluation: the first rule matching origin, method and requested
            headers decides, a preflight nothing matches (or to a bucket without CORS) is refused;
            moto applies every rule in turn and never looks at the method.
- presign:  (presign.py) query-string SigV4 is verified: signature, expiry, the session's rights,
            and for an SSE-KMS object kms:Decrypt on its key (moto never refuses a read for KMS).

And one for speed only, which changes no answer (so no test pins it; scripts/bench-sweep needs it):

- sqs-count: moto recounts every message of the queue (three times) on each send and receive, to
            build an attribute map it reads one setting from: a 10,000-message sweep took minutes.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import _RESTError
from moto.events.utils import EventTemplateParser
from moto.iam import access_control
from moto.iam.access_control import IAMPolicy, IAMRequestBase, S3IAMRequest
from moto.iam.models import get_account_id_from, iam_backends
from moto.sqs.models import Queue, SQSBackend
from moto.sts.models import sts_backends

import cors
import policy

_clock = {"offset_seconds": 0.0}
_clock_lock = threading.Lock()


def now() -> datetime.datetime:
    """The emulator's clock for expiry checks; tests may move it forward (POST /_bucketlink/clock)."""
    with _clock_lock:
        offset = _clock["offset_seconds"]
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(seconds=offset)


def advance_clock(seconds: float) -> float:
    with _clock_lock:
        _clock["offset_seconds"] += seconds
        return _clock["offset_seconds"]


def auth_enforced() -> bool:
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


_JSON_SERVICES = {"dynamodb", "events", "sqs", "lambda", "logs"}


class AwsError(_RESTError):
    """An authentication or authorization error in the wire format of the service that was called."""

    def __init__(self, service: str, status: int, error_code: str, message: str):
        super().__init__(error_code, message)
        self.code = status
        request_id = uuid.uuid4().hex
        if service == "s3":
            self.description = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{error_code}</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        elif service in _JSON_SERVICES:
            self.description = json.dumps({"__type": f"com.amazon.coral.service#{error_code}", "message": message})
            self.content_type = "application/x-amz-json-1.0"
        else:
            self.description = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{error_code}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )


@dataclass
class Principal:
    """The holder of an access key, found in whichever account issued it."""

    caller: policy.Caller
    secret_access_key: str
    session_token: str | None
    expiration: datetime.datetime | None
    policies: list
    # The policy passed to AssumeRole, if any: it bounds what the session may do.
    session_policy: object | None = None

    def allows(self, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        if policy.evaluate(self.policies, action, resource, None, context) != policy.ALLOW:
            return False
        return self.session_policy is None or policy.evaluate([self.session_policy], action, resource, None, context) == policy.ALLOW


def find_principal(access_key_id: str) -> Principal | None:
    account_id = get_account_id_from(access_key_id)
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        iam = iam_backends[account_id][partition]
        for session in sts_backends[account_id][partition].assumed_roles:
            if session.access_key_id == access_key_id:
                role_name = session.role_arn.split("/")[-1]
                role = _find_role(session.role_arn)
                return Principal(
                    caller=policy.Caller(
                        arn=f"arn:{partition}:sts::{account_id}:assumed-role/{role_name}/{session.session_name}",
                        account=account_id,
                        partition=partition,
                        aliases=frozenset({session.role_arn}),
                    ),
                    secret_access_key=session.secret_access_key,
                    session_token=session.session_token,
                    expiration=session.expiration,
                    policies=_role_policies(iam, role) if role else [],
                    session_policy=json.loads(session.policy) if session.policy else None,
                )
        for user in iam.list_users("/", None, None):
            for key in user.access_keys:
                if key.access_key_id == access_key_id and key.status == "Active":
                    request = access_control.IAMUserAccessKey(account_id, partition, access_key_id, {})
                    return Principal(
                        caller=policy.Caller(arn=user.arn, account=account_id, partition=partition),
                        secret_access_key=key.secret_access_key,
                        session_token=None,
                        expiration=None,
                        policies=[_document(p) for p in request.collect_policies()],
                    )
    return None


def _document(p: object) -> object:
    # Inline policies arrive as JSON text, or as a parsed document when CloudFormation made them.
    if isinstance(p, dict) and "Statement" in p:
        return p
    return IAMPolicy(p)._policy_json


def _role_policies(iam, role) -> list:
    docs = [iam.get_role_policy(role.name, n)[1] for n in iam.list_role_policies(role.name)]
    attached, _ = iam.list_attached_role_policies(role.name)
    return [_document(p) for p in docs + list(attached)]


def _find_role(role_arn: str):
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account_id, partition = parts[4], parts[1]
    if account_id not in iam_backends:
        return None
    for role in iam_backends[account_id][partition].get_roles():
        if role.arn == role_arn:
            return role
    return None


def _request_context(request: IAMRequestBase, resource: str) -> dict[str, str]:
    context: dict[str, str] = {}
    parts = resource.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[4]:
        context["aws:ResourceAccount"] = parts[4]
    data = request._data or {}
    external_id = data.get("ExternalId")
    if external_id:
        context["sts:ExternalId"] = external_id[0] if isinstance(external_id, list) else external_id
    if isinstance(request, S3IAMRequest):
        query = parse_qs(urlparse(request._path).query, keep_blank_values=True)
        if "prefix" in query:
            context["s3:prefix"] = query["prefix"][0]
    return context


def _resource_of(request: IAMRequestBase, account_id: str, resource: str) -> str:
    """moto authorizes DynamoDB calls against "*"; AWS against the table (or index) they name."""
    if resource != "*" or request._service != "dynamodb":
        return resource
    try:
        body = json.loads(request._body or b"{}")
    except ValueError:
        return resource
    table = body.get("TableName")
    batch = body.get("RequestItems")
    if table is None and isinstance(batch, dict) and len(batch) == 1:
        # BatchGetItem/BatchWriteItem name their table as the one key of RequestItems.
        table = next(iter(batch))
    if not isinstance(table, str):
        return resource
    arn = f"arn:aws:dynamodb:{request._region}:{account_id}:table/{table}"
    return f"{arn}/index/{body['IndexName']}" if isinstance(body.get("IndexName"), str) else arn


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    if self._action == "sts:GetCallerIdentity":
        return
    principal = find_principal(self._access_key._access_key_id)
    if principal is None:
        self._raise_invalid_access_key("InvalidId")
    resource = _resource_of(self, principal.caller.account, resource)
    context = _request_context(self, resource)
    if principal.expiration is not None and principal.expiration <= now():
        raise AwsError(self._service, 400 if self._service == "s3" else 403, "ExpiredToken",
                       "The provided token has expired." if self._service == "s3" else "The security token included in the request is expired")
    allowed = principal.allows(self._action, resource, context)
    if allowed and self._action == "sts:AssumeRole":
        allowed = _trusts(principal.caller, resource, context)
    if not allowed:
        if self._service == "s3":
            raise AwsError("s3", 403, "AccessDenied", "Access Denied")
        raise AwsError(
            self._service,
            403,
            "AccessDenied" if self._service != "dynamodb" else "AccessDeniedException",
            f"User: {principal.caller.arn} is not authorized to perform: {self._action} on resource: {resource}",
        )


def _trusts(caller: policy.Caller, role_arn: str, context: dict[str, str]) -> bool:
    role = _find_role(role_arn)
    return role is not None and (
        policy.evaluate([role.assume_role_policy_document], "sts:AssumeRole", role_arn, caller, context)
        == policy.ALLOW
    )


# The body of the request this thread is serving, as received (set by presign.Middleware).
request_body = threading.local()

_original_create_aws_request = IAMRequestBase._create_aws_request


def _create_aws_request_with_raw_body(self: IAMRequestBase):
    aws_request = _original_create_aws_request(self)
    raw = getattr(request_body, "value", None)
    if raw:
        aws_request.data = raw
    return aws_request


_uncounted = threading.local()


def _not_counted_inside_calls(counted: property) -> property:
    def count(self: Queue) -> int:
        return 0 if getattr(_uncounted, "active", False) else counted.fget(self)

    return property(count)


def _without_recounting(original):
    def call(self: SQSBackend, *args, **kwargs):
        _uncounted.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _uncounted.active = False

    return call


def apply() -> None:
    cors.apply()
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"id": "<id>", "time": <time>, "version": "0", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "region": "<region>", "resources": <resources>, "detail": <detail>}'
    )
    IAMRequestBase.check_action_permitted = _check_action_permitted
    IAMRequestBase._create_aws_request = _create_aws_request_with_raw_body
    for name in ("approximate_number_of_messages", "approximate_number_of_messages_not_visible", "approximate_number_of_messages_delayed"):
        setattr(Queue, name, _not_counted_inside_calls(getattr(Queue, name)))
    SQSBackend.send_message = _without_recounting(SQSBackend.send_message)
    SQSBackend.receive_message = _without_recounting(SQSBackend.receive_message)
