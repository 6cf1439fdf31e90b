"""The provider emulator as a background process, for Python tests and
benchmarks: a CA made for the run (--make-pki), the clients given, and the
secret passed through the environment (never on the command line)."""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from typing import Sequence


@dataclass
class EmulatorProcess:
    origin: str  # https://localhost:PORT
    ca_file: str
    pid: int

    def stop(self) -> None:
        # KILL: its handlers may still sleep through delays a test switched on.
        os.kill(self.pid, signal.SIGKILL)


def start_emulator(bin_dir: str, work: str, clients: Sequence[str], secret: str) -> EmulatorProcess:
    """Starts credplug-emulator from BIN_DIR with its files in WORK; each of
    CLIENTS is "PROVIDER:CLIENT_ID" and gets SECRET. Returns once it listens."""
    exe = os.path.join(bin_dir, "credplug-emulator")
    subprocess.run([exe, "--make-pki", work + "/pki"], check=True, stdout=subprocess.DEVNULL)
    registered = [arg for c in clients for arg in ("--client", c + ":@CREDPLUG_EMULATOR_SECRET")]
    # --background returns once it listens (or with why it cannot).
    subprocess.run([exe, "--cert", work + "/pki/server.pem", "--key", work + "/pki/server-key.pem", "--port-file",
                    work + "/emulator.port", *registered, "--background", "--pid-file", work + "/emulator.pid"],
                   check=True, stdout=subprocess.DEVNULL, env={**os.environ, "CREDPLUG_EMULATOR_SECRET": secret})
    with open(work + "/emulator.port") as port, open(work + "/emulator.pid") as pid:
        return EmulatorProcess("https://localhost:" + port.read().strip(), work + "/pki/ca.pem", int(pid.read()))
