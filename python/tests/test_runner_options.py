"""The runner's ways out reach the library from Python: each run in a new
interpreter, whose runners are its own (the zygote and the spare are kept
once per process, so this one's fixtures would answer for them)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict

import pytest

from conftest import Emulator

# Loads Ainua in a runner, takes a token, and prints this process's
# children (a runner, the zygote, the spare are all children of the host):
# their names, command lines, and whether they share its user namespace.
PROBE = r"""
import json, os, sys, time
import credplug
options, credential = json.loads(sys.argv[1]), json.loads(sys.argv[2])
wait_for_spare = options.pop("wait_for_spare")

def children():
    found = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            for pid in f.read().split():
                try:
                    with open(f"/proc/{pid}/comm") as c, open(f"/proc/{pid}/cmdline", "rb") as a:
                        comm, args = c.read().strip(), a.read().decode(errors="replace").split("\0")
                    same_user_ns = os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user")
                except OSError:
                    continue  # gone meanwhile
                found.append({"comm": comm, "spare": "--spare" in args, "same_user_ns": same_user_ns})
    return found

with credplug.Host(use_environment=False, use_default_dir=False, isolation="process", **options) as host:
    with host.open("ainua", credential) as cred:
        cred.headers()
        # The next spare is asked for once a load is over, and made by the
        # zygote meanwhile: waited for until it shows (or, where it must
        # not, for a second, which a broken option fills with one).
        deadline = time.monotonic() + (20 if wait_for_spare else 1)
        seen = children()
        while not any(c["spare"] for c in seen) and time.monotonic() < deadline:
            time.sleep(0.01)
            seen = children()
        print(json.dumps(seen))
"""


def probe(emulator: Emulator, **options: Any) -> list[Dict[str, Any]]:
    options["plugin_dirs"] = [os.environ["CREDPLUG_TEST_PLUGIN_DIR"]]
    options["ca_file"] = emulator.ca_file
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(options), json.dumps(emulator.credential())],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def runners(seen: list[Dict[str, Any]]) -> list[Dict[str, Any]]:
    return [c for c in seen if c["comm"].startswith("credplug-plugin") and not c["spare"]]


@pytest.fixture(scope="module")
def by_default(emulator: Emulator) -> list[Dict[str, Any]]:
    """A probe with no option: what the others are told apart from."""
    return probe(emulator, wait_for_spare=True)


def test_by_default_a_zygote_and_a_spare(by_default: list[Dict[str, Any]]) -> None:
    seen = by_default
    assert any(c["comm"] == "credplug-zygote" for c in seen), seen
    assert any(c["spare"] for c in seen), seen
    assert runners(seen), seen


def test_runners_without_spare(emulator: Emulator) -> None:
    seen = probe(emulator, runners_without_spare=True, wait_for_spare=False)
    assert any(c["comm"] == "credplug-zygote" for c in seen), seen
    assert not any(c["spare"] for c in seen), seen
    assert runners(seen), seen


def test_runners_without_zygote(emulator: Emulator) -> None:
    seen = probe(emulator, runners_without_zygote=True, wait_for_spare=False)
    assert not any(c["comm"] == "credplug-zygote" for c in seen), seen
    assert not any(c["spare"] for c in seen), seen
    assert runners(seen), seen


def test_runners_without_namespaces(emulator: Emulator, by_default: list[Dict[str, Any]]) -> None:
    if not any(not r["same_user_ns"] for r in runners(by_default)):
        pytest.skip("this kernel gives runners no namespaces")
    seen = probe(emulator, runners_without_namespaces=True, wait_for_spare=True)
    assert runners(seen) and all(r["same_user_ns"] for r in runners(seen)), seen
