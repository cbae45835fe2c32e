"""Makes moto's IAM enforcement judge the resources the project's policies name.

Loaded by serve.py only on a server started with IAM enforcement
(INITIAL_NO_AUTH_ACTION_COUNT set). Moto 5.2.5 then checks each request's
signature and the caller's identity policies, but as shipped it cannot check a
policy scoped to resources:

- Secrets Manager and ACM PCA requests are authorized against the resource "*",
  so no statement naming a secret or CA ARN ever matches and every such request
  is denied. Here they are authorized against the ARN the request names, the
  one AWS evaluates.
- Organizations tag requests are authorized against "*" as well; here
  against the ARN of the account (or OU, root, policy) they name.
- DynamoDB requests are authorized against "*" as well; here against the
  ARN of the table they name (a batch naming several tables against "*",
  which no narrowed statement matches).
- Lambda requests are authorized as their API operation (lambda:Invoke)
  against "*"; here Invoke as the action IAM has, lambda:InvokeFunction, and
  every request naming a function against that function's ARN (with its
  qualifier when the request gives one, as AWS authorizes a qualified call).
- SQS batch requests are authorized as their own action
  (sqs:SendMessageBatch), which IAM does not have; here as the action AWS
  authorizes them as (sqs:SendMessage, sqs:DeleteMessage,
  sqs:ChangeMessageVisibility).
- Its wildcard matcher turns a policy into a regular expression without
  escaping it: "?" (the wildcard AWS documents for the six characters after a
  secret's name) crashes the server, and "." matches any character. Here "*"
  and "?" are IAM's wildcards and every other character stands for itself.
- STS AssumeRoleWithWebIdentity and AssumeRoleWithSAML, which AWS answers
  unsigned (the token or assertion is the credential), fail with a 500 for
  want of an Authorization header; here they pass unsigned, as on AWS.
- A denial is an XML document, which the SDK cannot read for a JSON-protocol
  service (Secrets Manager, Organizations, ACM PCA) or Lambda's REST-JSON: it
  throws a SyntaxError. Here such a service answers as AWS does, an
  AccessDeniedException naming the action and the resource (HTTP 403 for
  Lambda), so callers see the error their code handles.

Everything else is moto's own evaluation, unchanged: what it does not evaluate
(conditions other than sts:ExternalId in a same-account trust policy,
resource-based policies, cross-account trust, ...) stays unevaluated.
"""

import re
import secrets
import string
from re import Match
from urllib.parse import unquote

from moto.acmpca.responses import ACMPCAResponse
from moto.awslambda.responses import LambdaResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMPolicyStatement, IAMRequest, IAMRequestBase
from moto.organizations.exceptions import InvalidInputException, TargetNotFoundException
from moto.organizations.responses import OrganizationsResponse
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.utilities.utils import get_partition

# Secrets Manager appends a dash and six random characters to a new secret's name.
SUFFIX_ALPHABET = string.ascii_letters + string.digits

# The IAM action AWS authorizes each SQS batch request as.
BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


_moto_check_action_permitted = IAMRequestBase.check_action_permitted
_moto_authenticate_and_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

# The IAM action AWS authorizes each Lambda operation as, where the two differ.
LAMBDA_ACTIONS = {"lambda:Invoke": "lambda:InvokeFunction"}

# STS actions AWS accepts without a signature.
UNSIGNED_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


class AccessDeniedException(JsonRESTError):
    code = 400


class LambdaAccessDeniedException(JsonRESTError):
    """Lambda's denial: HTTP 403 with a JSON body (REST, so no X-Amz-Target)."""

    code = 403


def install() -> None:
    IAMPolicyStatement._match = staticmethod(_iam_match)  # type: ignore[method-assign]
    SecretsManagerResponse._determine_resource = _secret_resource  # type: ignore[attr-defined]
    ACMPCAResponse._determine_resource = _certificate_authority_resource  # type: ignore[attr-defined]
    OrganizationsResponse._determine_resource = _organizations_resource  # type: ignore[attr-defined]
    DynamoHandler._determine_resource = _table_resource  # type: ignore[attr-defined]
    LambdaResponse._determine_resource = _function_resource  # type: ignore[attr-defined]
    IAMRequestBase.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]
    IAMRequest._raise_access_denied = _raise_access_denied  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize  # type: ignore[method-assign]


def _authenticate_and_authorize(self, iam_request_cls, resource="*"):  # type: ignore[no-untyped-def]
    if "Authorization" not in self.headers and self._get_action() in UNSIGNED_ACTIONS:
        return
    _moto_authenticate_and_authorize(self, iam_request_cls, resource)


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    # Kept for the denial message, which names the resource as AWS's does.
    self._resource = resource  # type: ignore[attr-defined]
    action = BATCH_ACTIONS.get(self._action, self._action)  # type: ignore[has-type]
    self._action = LAMBDA_ACTIONS.get(action, action)
    _moto_check_action_permitted(self, resource)


def _raise_access_denied(self: IAMRequest) -> None:
    user, action = self._access_key.arn, self._action
    message = f"User: {user} is not authorized to perform: {action} on resource: {self._resource}"  # type: ignore[attr-defined]
    if action.startswith("lambda:"):
        raise LambdaAccessDeniedException("AccessDeniedException", message)
    if self._headers.get("X-Amz-Target") is None:
        raise AccessDeniedError(user_arn=user, action=action)
    raise AccessDeniedException("AccessDeniedException", message)


def _iam_match(pattern: str, value: str) -> Match[str] | None:
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL)


def _secret_resource(self: SecretsManagerResponse) -> str:
    """The secret's ARN as AWS authorizes it: the existing secret's full ARN,
    the ARN a new secret will get, the caller's ARN as given, or the name's
    ARN without a suffix for a secret that does not exist. Listing actions
    have no resource."""
    prefix = f"arn:{get_partition(self.region)}:secretsmanager:{self.region}:{self.current_account}:secret:"
    if self._get_action() == "CreateSecret":
        suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(6))
        return f"{prefix}{self._get_param('Name')}-{suffix}"
    secret_id = self._get_param("SecretId")
    if not isinstance(secret_id, str):
        return "*"
    if secret_id.startswith("arn:") and not secret_id.startswith(prefix):
        return secret_id
    found = self.backend.secrets.get(secret_id)
    if found is not None:
        return found.arn
    return secret_id if secret_id.startswith("arn:") else f"{prefix}{secret_id}"


def _certificate_authority_resource(self: ACMPCAResponse) -> str:
    arn = self._get_param("CertificateAuthorityArn")
    return arn if isinstance(arn, str) else "*"


def _organizations_resource(self: OrganizationsResponse) -> str:
    resource_id = self._get_param("ResourceId")
    if not isinstance(resource_id, str):
        return "*"
    try:
        return self.organizations_backend._get_resource_for_tagging(resource_id).arn
    except (InvalidInputException, TargetNotFoundException):
        # An id the Organization does not hold matches no ARN a policy can name.
        return resource_id


def _table_resource(self: DynamoHandler) -> str:
    table = self._get_param("TableName")
    if not isinstance(table, str):
        tables = list(self._get_param("RequestItems") or {})
        if len(tables) != 1:
            return "*"
        table = tables[0]
    return f"arn:{get_partition(self.region)}:dynamodb:{self.region}:{self.current_account}:table/{table}"


def _function_resource(self: LambdaResponse) -> str:
    """The function's ARN as AWS authorizes a request naming one: the ARN the
    caller gave, or the name's in the caller's account and Region, with the
    `Qualifier` the request gives. A request naming no function (listing,
    layers, event source mappings) has the resource "*"."""
    match = re.search(r"/functions/([^/]+)", self.path)
    if match is None:
        return "*"
    name = unquote(match.group(1))
    arn = (
        name
        if name.startswith("arn:")
        else f"arn:{get_partition(self.region)}:lambda:{self.region}:{self.current_account}:function:{name}"
    )
    qualifier = self.querystring.get("Qualifier", [None])[0]
    return arn if qualifier is None or arn.count(":") > 6 else f"{arn}:{qualifier}"
