#!/usr/bin/env python3
"""Countersign from Python with only the standard library, against the REST API.

The agent proposes two actions, waits for each decision, and runs exactly what was approved:
  1. deploy api with 10 replicas  -> the reviewer edits it to 2 and approves -> runs with 2
  2. drop the users table         -> the reviewer denies it                  -> never runs; the reason is printed

Run (starts an embedded gateway unless COUNTERSIGN_URL / COUNTERSIGN_AGENT_KEY are set):
    npx tsx examples/with-gateway.ts python3 examples/python/agent.py
COUNTERSIGN_REVIEWER_KEY, when set, plays the person who decides (in real use: the inbox, Slack or CLI).
"""
import json
import os
import sys
import threading
import urllib.error
import urllib.request
import uuid

URL = os.environ["COUNTERSIGN_URL"].rstrip("/")
AGENT_KEY = os.environ["COUNTERSIGN_AGENT_KEY"]
REVIEWER_KEY = os.environ.get("COUNTERSIGN_REVIEWER_KEY")


class GatewayError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.code = code


def call(method, path, body=None, key=AGENT_KEY, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=90) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        err = json.loads(e.read() or b"{}").get("error", {})
        raise GatewayError(e.code, err.get("code"), err.get("message")) from None


def wait_for_decision(action_id):
    """Long-poll: each GET holds up to 30 s and returns as soon as the action is decided."""
    while True:
        action = call("GET", f"/v1/actions/{action_id}?wait=30")
        if action["status"] != "pending":
            return action


def play_reviewer(tool, decide):
    """Stands in for the person: decides the pending action for `tool` once it shows up."""

    def run():
        while True:
            items = call("GET", f"/v1/actions?status=pending&tool={tool}", key=REVIEWER_KEY)["items"]
            if items:
                call("POST", f"/v1/actions/{items[0]['id']}/reviews", decide, key=REVIEWER_KEY)
                return
            threading.Event().wait(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def run_tool(tool, arguments, execute, tool_call_id):
    # The idempotency key comes from the model's tool-call id: a restarted agent gets the same action back.
    action = call(
        "POST",
        "/v1/actions",
        {"tool": tool, "arguments": arguments, "purpose": "python example"},
        headers={"Idempotency-Key": f"tool-call:{tool}:{tool_call_id}"},
    )
    print(f"proposed {tool} {json.dumps(arguments)} -> {action['status']} (id {action['id']})")
    decided = wait_for_decision(action["id"]) if action["status"] == "pending" else action
    if decided["status"] != "approved":
        who = (decided.get("decided_by") or {}).get("label") or "the gateway"
        return f"NOT RUN: {decided['status']} by {who}: {decided.get('reason')}"
    # Redeem the signed receipt (once) and run exactly the approved arguments: a reviewer may have edited them.
    call(
        "POST",
        "/v1/receipts/redeem",
        {
            "receipt": decided["receipt"],
            "action": {k: decided[k] for k in ("id", "tool", "arguments", "resource")},
        },
    )
    output = execute(decided["arguments"])
    call("POST", f"/v1/actions/{decided['id']}/result", {"outcome": "succeeded", "output": output})
    return output


def main():
    if not REVIEWER_KEY:
        print("COUNTERSIGN_REVIEWER_KEY is not set: approve or deny in the inbox or with `countersign approve|deny ID`.")
    run_id = uuid.uuid4().hex[:8]

    reviewer = REVIEWER_KEY and play_reviewer("deploy", {"decision": "approve", "arguments": {"service": "api", "replicas": 2}})
    result = run_tool("deploy", {"service": "api", "replicas": 10}, lambda a: f"deployed {a['service']} x{a['replicas']}", f"{run_id}-1")
    print("deploy:", result)
    if reviewer:
        reviewer.join()

    reviewer = REVIEWER_KEY and play_reviewer("drop_table", {"decision": "deny", "reason": "not during the freeze"})
    result = run_tool("drop_table", {"table": "users"}, lambda a: sys.exit("drop_table must never run"), f"{run_id}-2")
    print("drop_table:", result)
    if reviewer:
        reviewer.join()


if __name__ == "__main__":
    main()
