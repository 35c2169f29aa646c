"""Test instruments of the local cloud: a log of the AWS API requests it served, and injected faults.

Not AWS behaviour (``patches.py`` holds that): what the project's tests use to watch and provoke the
emulator from outside, over HTTP on the emulator's own port.

``GET /_localcloud/requests``
    ``{"total": N, "requests": [{"seq", "service", "action", "method", "path", "status"}, ...]}``: how many
    AWS API requests the emulator has served since it started (or since the last reset), and the last
    ``MAX_LOGGED`` of them. ``service`` comes from the request's signature (``.../<region>/<service>/aws4_request``),
    ``action`` from ``X-Amz-Target`` (JSON protocols) or the ``Action`` parameter (query protocols),
    else the method and path (REST protocols). ``?since=<seq>`` returns only the requests after ``seq``.
    Requests to ``/moto-api`` and ``/_localcloud`` are not AWS API requests and are not counted.
``DELETE /_localcloud/requests``
    Forget them (``total`` starts again from 0).
``POST /_localcloud/faults``
    JSON ``{"action": "DescribeVpcs", "code": "RequestLimitExceeded", "count": 2}`` (optional ``service``,
    ``status``, ``message``): the next ``count`` requests with that action (and service, when given) are
    answered with that error, in the protocol's own error format, instead of reaching the emulator.
    ``status`` defaults to 503 for EC2's ``RequestLimitExceeded`` and 400 otherwise, as on AWS.
``GET /_localcloud/faults`` lists the faults still armed; ``DELETE /_localcloud/faults`` disarms them all.

Everything is kept in memory; the log is bounded.
"""

import collections
import io
import json
import re
import threading
import uuid
from urllib.parse import parse_qs

REQUESTS_PATH = "/_localcloud/requests"
FAULTS_PATH = "/_localcloud/faults"
MAX_LOGGED = 5000
NOT_COUNTED = ("/moto-api", "/_localcloud", "/favicon.ico")
SCOPE = re.compile(r"Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request")

_lock = threading.Lock()
_log = collections.deque(maxlen=MAX_LOGGED)
_state = {"total": 0, "seq": 0}
_faults = []


def _body(environ):
    """The request body, read once; the WSGI input is replaced so that moto reads it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    data = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    return data


def describe(environ):
    """(service, action, protocol) of an AWS API request."""
    match = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    action = (query.get("Action") or [""])[0]
    content_type = environ.get("CONTENT_TYPE", "")
    if not action and content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(_body(environ).decode("utf-8", "replace"))
        action = (form.get("Action") or [""])[0]
    if action:
        return service, action, "ec2" if service == "ec2" else "query"
    protocol = "rest-json" if "json" in content_type else "rest-xml"
    return service, "%s %s" % (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")), protocol


def _json(start_response, status, payload):
    body = (json.dumps(payload) + "\n").encode()
    start_response("%d %s" % (status, "OK" if status < 300 else "Error"),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _requests_endpoint(environ, start_response):
    method = environ.get("REQUEST_METHOD")
    with _lock:
        if method == "DELETE":
            _log.clear()
            _state["total"] = 0
            return _json(start_response, 200, {"total": 0})
        if method != "GET":
            return _json(start_response, 405, {"error": "GET or DELETE"})
        try:
            since = int((parse_qs(environ.get("QUERY_STRING", "")).get("since") or ["0"])[0])
        except ValueError:
            return _json(start_response, 400, {"error": "since must be an integer"})
        return _json(start_response, 200, {"total": _state["total"], "seq": _state["seq"],
                                           "requests": [entry for entry in _log if entry["seq"] > since]})


def _faults_endpoint(environ, start_response):
    method = environ.get("REQUEST_METHOD")
    if method == "GET":
        with _lock:
            return _json(start_response, 200, {"faults": list(_faults)})
    if method == "DELETE":
        with _lock:
            _faults[:] = []
        return _json(start_response, 200, {"faults": []})
    if method != "POST":
        return _json(start_response, 405, {"error": "GET, POST or DELETE"})
    try:
        fault = json.loads(_body(environ) or b"{}")
        action, code, count = fault["action"], fault["code"], int(fault.get("count", 1))
        if not isinstance(action, str) or not isinstance(code, str) or count < 1:
            raise ValueError("action and code must be strings, count 1 or more")
    except (ValueError, KeyError, TypeError) as error:
        return _json(start_response, 400, {"error": "expected {\"action\", \"code\", \"count\"}: %s" % error})
    armed = {
        "action": action,
        "service": fault.get("service") or "",
        "code": code,
        "count": count,
        "status": int(fault.get("status") or (503 if code == "RequestLimitExceeded" else 400)),
        "message": fault.get("message") or "Injected by the local cloud: %s" % code,
    }
    with _lock:
        _faults.append(armed)
    return _json(start_response, 200, {"faults": list(_faults)})


def _take_fault(service, action):
    with _lock:
        matching = [fault for fault in _faults if fault["action"] == action and fault["service"] in ("", service)]
        if not matching:
            return None
        fault = matching[0]
        fault["count"] -= 1
        if fault["count"] <= 0:
            _faults.remove(fault)
        return dict(fault)


def _error_response(start_response, fault, protocol):
    request_id = str(uuid.uuid4())
    code, message, status = fault["code"], fault["message"], fault["status"]
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    elif protocol == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error>"
                "</Errors><RequestID>%s</RequestID></Response>" % (code, message, request_id)).encode()
        headers = [("Content-Type", "text/xml")]
    else:
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>%s</RequestId></ErrorResponse>" % (code, message, request_id)).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    start_response("%d Error" % status, headers + [("Content-Length", str(len(body)))])
    return [body]


def middleware(app_call):
    """Wrap a WSGI ``__call__(self, environ, start_response)`` with the log and the faults."""

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == REQUESTS_PATH:
            return _requests_endpoint(environ, start_response)
        if path == FAULTS_PATH:
            return _faults_endpoint(environ, start_response)
        if path.startswith(NOT_COUNTED):
            return app_call(self, environ, start_response)
        service, action, protocol = describe(environ)
        entry = {"service": service, "action": action, "method": environ.get("REQUEST_METHOD", ""), "path": path, "status": None}
        with _lock:
            _state["total"] += 1
            _state["seq"] += 1
            entry["seq"] = _state["seq"]
            _log.append(entry)
        fault = _take_fault(service, action)
        if fault:
            entry["status"] = fault["status"]
            entry["fault"] = fault["code"]
            return _error_response(start_response, fault, protocol)

        def recording_start_response(status, headers, exc_info=None):
            try:
                entry["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                pass
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return app_call(self, environ, recording_start_response)

    return __call__


def install():
    """Put the instruments in front of moto's WSGI application (after the patches, outermost)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    DomainDispatcherApplication.__call__ = middleware(DomainDispatcherApplication.__call__)
