"""Runs moto's server until the process that started it goes away.

The test runner keeps this process's stdin open. However the runner ends, even
killed outright, the pipe then closes and the server exits with it, so no
emulator outlives the tests that started it.
"""

import os
import sys
import threading

from moto.server import main


def exit_when_parent_is_gone() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
main(sys.argv[1:])
