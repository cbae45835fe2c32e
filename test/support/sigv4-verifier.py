"""A stand-in for API Gateway or a Lambda function URL that checks SigV4 with
botocore, an implementation other than the signer under test.

For each request it rebuilds a botocore AWSRequest from what it received (the
raw path and query, the headers the Authorization header says are signed, the
body), recomputes the signature with botocore's SigV4Auth for the access key's
secret, the region, the service and the X-Amz-Date it received, and compares.
It answers 200 with a JSON echo of what it saw and `verified: true`, or 403
with `{"verified": false, "reason": ...}`. The echo never holds the
Authorization header, the session token or a secret.

Like AWS, it also refuses: an unknown access key, credentials past the expiry
they were registered with, a session token other than the key's, a scope for
another region or service, a date more than 15 minutes off, and a declared
x-amz-content-sha256 that is not the body's.

Control requests under /.verifier/ are not checked:
  POST /.verifier/credentials  {"accessKeyId", "secretAccessKey", "sessionToken"?, "expiresAt"? (epoch ms)}
  GET  /.verifier/stats        {"requests": <requests checked so far>}

Usage: python sigv4-verifier.py --region R --service S; prints {"port": N} on
stdout once listening on 127.0.0.1, and exits when its stdin closes.
"""

import argparse
import datetime
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONTROL = "/.verifier/"
MAX_SKEW = datetime.timedelta(minutes=15)
# Never echoed: they are, or carry, the credentials and the signature.
SECRET_HEADERS = {"authorization", "x-amz-security-token"}


class Refused(Exception):
    pass


class State:
    def __init__(self, region, service):
        self.region = region
        self.service = service
        self.credentials = {}
        self.requests = 0
        self.lock = threading.Lock()


def parse_authorization(value):
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise Refused(f"unsupported algorithm {algorithm!r}")
    fields = {}
    for part in rest.split(","):
        name, _, field = part.strip().partition("=")
        fields[name] = field
    try:
        access_key, date, region, service, terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise Refused("malformed Authorization header") from None
    if terminator != "aws4_request":
        raise Refused("malformed credential scope")
    return access_key, date, region, service, signed_headers, signature


def verify(state, method, target, headers, body):
    lower = {name.lower(): value for name, value in headers.items()}
    if "authorization" not in lower:
        raise Refused("no Authorization header")
    access_key, date, region, service, signed_headers, signature = parse_authorization(
        lower["authorization"]
    )
    with state.lock:
        known = state.credentials.get(access_key)
    if known is None:
        raise Refused("unknown access key")
    if known.get("expiresAt") is not None and known["expiresAt"] <= time.time() * 1000:
        raise Refused("expired credentials")
    if region != state.region or service != state.service:
        raise Refused(f"credential scope {region}/{service}, expected {state.region}/{state.service}")
    for required in ("host", "x-amz-date"):
        if required not in signed_headers:
            raise Refused(f"{required} is not signed")
    missing = [name for name in signed_headers if name not in lower]
    if missing:
        raise Refused(f"signed headers not received: {','.join(missing)}")
    amz_date = lower["x-amz-date"]
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Refused("malformed x-amz-date") from None
    if date != amz_date[:8]:
        raise Refused("credential scope date is not x-amz-date's")
    if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
        raise Refused("x-amz-date more than 15 minutes off")
    token = known.get("sessionToken")
    if token is not None and (
        "x-amz-security-token" not in signed_headers or lower.get("x-amz-security-token") != token
    ):
        raise Refused("session token missing, unsigned or not the key's")
    declared = lower.get("x-amz-content-sha256")
    if declared is not None and declared != hashlib.sha256(body).hexdigest():
        raise Refused("x-amz-content-sha256 is not the body's")

    request = AWSRequest(
        method=method,
        url=f"http://{lower['host']}{target}",
        headers={name: lower[name] for name in signed_headers},
        data=body,
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(
        Credentials(access_key, known["secretAccessKey"], token), state.service, state.region
    )
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if auth.signed_headers(auth.headers_to_sign(request)) != ";".join(signed_headers):
        raise Refused("botocore would not sign the headers the request names")
    if not hmac.compare_digest(expected, signature):
        raise Refused("signature does not match")
    return access_key, signed_headers


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                raise Refused("chunked bodies are not accepted")
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def answer(self, status, document):
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def control(self, body):
            if self.path == CONTROL + "credentials" and self.command == "POST":
                entry = json.loads(body)
                with state.lock:
                    state.credentials[entry["accessKeyId"]] = entry
                return self.answer(200, {"ok": True})
            if self.path == CONTROL + "stats":
                with state.lock:
                    return self.answer(200, {"requests": state.requests})
            return self.answer(404, {"error": "unknown control path"})

        def handle_any(self):
            try:
                body = self.read_body()
            except Refused as refused:
                self.close_connection = True
                return self.answer(400, {"verified": False, "reason": str(refused)})
            if self.path.startswith(CONTROL):
                return self.control(body)
            with state.lock:
                state.requests += 1
            headers = {}
            for name in self.headers.keys():
                headers[name.lower()] = ", ".join(self.headers.get_all(name))
            try:
                access_key, signed_headers = verify(state, self.command, self.path, headers, body)
            except Refused as refused:
                return self.answer(403, {"verified": False, "reason": str(refused)})
            parts = urlsplit(self.path)
            self.answer(
                200,
                {
                    "verified": True,
                    "accessKeyId": access_key,
                    "signedHeaders": signed_headers,
                    "method": self.command,
                    "path": parts.path,
                    "query": parts.query,
                    "params": parse_qsl(parts.query, keep_blank_values=True),
                    "headers": {k: v for k, v in headers.items() if k not in SECRET_HEADERS},
                    "bodyLength": len(body),
                    "bodySha256": hashlib.sha256(body).hexdigest(),
                },
            )

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    return Handler


def exit_when_parent_is_gone():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", required=True)
    parser.add_argument("--service", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(State(args.region, args.service)))
    server.daemon_threads = True
    threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
