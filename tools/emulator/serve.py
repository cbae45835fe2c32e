"""Runs moto's server until the process that started it goes away.

The test runner keeps this process's stdin open. However the runner ends, even
killed outright, the pipe then closes and the server exits with it, so no
emulator outlives the tests that started it.

A server started with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT set) also
judges the resources that policies name; see iam_authorization.py.
"""

import os
import sys
import threading

from moto.server import main


def exit_when_parent_is_gone() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
if "INITIAL_NO_AUTH_ACTION_COUNT" in os.environ:
    import iam_authorization

    iam_authorization.install()
main(sys.argv[1:])
