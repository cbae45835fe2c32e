"""Runs moto's server until the process that started it goes away.

The test runner keeps this process's stdin open. However the runner ends, even
killed outright, the pipe then closes and the server exits with it, so no
emulator outlives the tests that started it.

A server started with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT set) also
judges the resources that policies name; see iam_authorization.py. Every server
receives from long SQS queues in time linear in what it returns; see
sqs_at_scale.py.
"""

import os
import sys
import threading

import sqs_at_scale
from moto.server import main


def exit_when_parent_is_gone() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
sqs_at_scale.install()
if "INITIAL_NO_AUTH_ACTION_COUNT" in os.environ:
    import iam_authorization

    iam_authorization.install()
main(sys.argv[1:])
