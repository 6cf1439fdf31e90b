#!/usr/bin/env python3
"""Runs every shell block of the installed documentation, as a reader would.

    run_doc_blocks.py BUILD_DIR SOURCE_DIR

Installs BUILD_DIR into a temporary prefix, puts <prefix>/bin first on PATH,
and for each document (README.md, CONTRIBUTING.md, docs/*.md, the examples'
and the providers' READMEs, as installed) runs its ```sh blocks in order in
one bash (`set -euo pipefail`), from a fresh empty directory with an empty
HOME. A line's trailing comment can state what it must do:

    # exit N             it exits N (else it must succeed)
    # prints "TEXT"      its standard output contains TEXT

The port 8443 the docs use is replaced by a free one (a test may not rely on
a fixed port being free). A block the test cannot run is listed in
NOT_RUN_HERE with the reason and where it is run instead; any other block
that does not run as written fails the test, naming the document and line.
After each document, processes it left behind (emulators started with
--background) are found by their working directory and stopped. Last, a
project from `credplug new` in the build tree (not installed) passes its
test.sh.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

# First line of a block -> why it is not run here (it is run elsewhere).
NOT_RUN_HERE = {
    "scripts/demo.sh": ".ci/run runs scripts/demo.sh and scripts/test.sh themselves",
    "cmake -S . -B build -G Ninja && cmake --build build -j2": "this test installs the build it runs in (cmake --install, a temporary prefix)",
    "scripts/sanitize.sh": ".ci/run runs sanitize.sh and fuzz.sh",
    "scripts/build.sh": "ctest runs in the build these commands make",
    "scripts/format.sh": ".ci/run runs check-source.sh (format --check), tidy.sh, sanitize.sh and fuzz.sh",
}

DOCUMENTS = ["README.md", "CONTRIBUTING.md", "docs/ARCHITECTURE.md", "docs/DESCRIBED_PROVIDERS.md", "docs/EMULATOR.md", "docs/SANDBOX.md",
             "docs/SHARED_CACHE.md", "docs/SIDECAR.md", "docs/WRITING_PLUGINS.md", "examples/embed/README.md",
             "examples/c-plugin/README.md", "examples/cpp-plugin/README.md"] + [
    f"plugins/{p}/README.md" for p in ("ainua", "avni", "avonhealth", "aws", "nexla", "oauth2", "opencrvs")]

EXPECT_EXIT = re.compile(r"\s#\s*exit (\d+)\b[^\n]*$")
EXPECT_PRINTS = re.compile(r'\s#\s*prints "(.*)"[^"\n]*$')


def fail(message):
    print(f"doc blocks: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def blocks(path):
    """(line number, lines) of each ```sh block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            out.append((i + 1, lines[i + 1:j]))
            i = j
        i += 1
    return out


def commands(start, lines):
    """Logical commands: continuation lines joined, heredoc bodies kept with
    the line that opens them. Yields (line number, text, expectation)."""
    i = 0
    while i < len(lines):
        first = i
        text = lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        expect = None
        if "<<" not in text:
            if m := EXPECT_EXIT.search(text):
                expect = ("exit", int(m.group(1)))
            elif m := EXPECT_PRINTS.search(text):
                expect = ("prints", m.group(1))
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", text)
        if heredoc:
            while i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i]
                if lines[i].strip() == heredoc.group(1):
                    break
        if text.strip() and not text.strip().startswith("#"):
            yield start + 1 + first, text, expect
        i += 1


def script_for(doc, numbered):
    """A bash script running the commands, each checked as its comment says.
    A command keeps its trailing comment, so each check starts a new line."""
    out = ["set -euo pipefail", "at=", "on_error() { echo \"doc blocks: $at failed (exit $?)\" >&2; }",
           "trap on_error ERR", 'failed() { echo "doc blocks: $at: $1" >&2; exit 1; }']
    for line, text, expect in numbered:
        out.append("at=" + shlex.quote(f"{doc}:{line}"))
        if expect is None:
            out.append(text)
        elif expect[0] == "exit":
            out.append("set +e; trap - ERR")
            out.append(text)
            out.append("rc=$?; set -e; trap on_error ERR")
            out.append(f'[[ $rc == {expect[1]} ]] || failed "exit $rc, not {expect[1]}"')
        else:
            out.append(f"out=$({text}\n)")
            out.append('printf "%s\\n" "$out"')
            out.append(f'[[ $out == *{shlex.quote(expect[1])}* ]] || failed {shlex.quote("its output lacks " + expect[1])}')
    return "\n".join(out) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def left_behind(work):
    """Processes whose working directory is inside `work`: what a document
    started in the background and did not stop. One it did stop may take a
    moment to exit, so each is given five seconds before it counts."""
    def running():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if cwd == work or cwd.startswith(work + "/"):
                found.append(int(pid))
        return found
    deadline = time.monotonic() + 5
    while (pids := running()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    return pids


def main():
    build, source = sys.argv[1], sys.argv[2]
    prefix = tempfile.mkdtemp(prefix="credplug-docs-")
    subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True, stdout=subprocess.DEVNULL)
    docdir = os.path.join(prefix, "share/doc/credplug")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDPLUG_")}
    env["PATH"] = os.path.join(prefix, "bin") + ":" + env.get("PATH", "/usr/bin:/bin")
    ran = skipped = 0
    for doc in DOCUMENTS:
        if not os.path.exists(os.path.join(source, doc)):
            fail(f"{doc} is listed here but not in the source tree")
        installed = os.path.join(docdir, doc)
        if not os.path.exists(installed):
            fail(f"{doc} is not installed (expected at {installed})")
        numbered = []
        for line, body in blocks(installed):
            first = body[0].strip() if body else ""
            reason = next((why for start, why in NOT_RUN_HERE.items() if first.startswith(start)), None)
            if reason:
                print(f"{doc}:{line}: not run here: {reason}")
                skipped += 1
                continue
            numbered.extend(commands(line, body))
            ran += 1
        if not numbered:
            continue
        port = str(free_port())
        text = script_for(doc, numbered).replace("8443", port)
        work = tempfile.mkdtemp(prefix="doc-", dir=prefix)
        home = os.path.join(work, ".home")
        os.mkdir(home)
        started = time.monotonic()
        try:
            r = subprocess.run(["bash", "-c", text], cwd=work, env=dict(env, HOME=home), capture_output=True,
                               text=True, timeout=600)
        except subprocess.TimeoutExpired:
            left_behind(work)
            fail(f"{doc}: its blocks did not finish in 600 s")
        left = left_behind(work)
        if r.returncode != 0:
            sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
            fail(f"{doc}: a block does not run as written (exit {r.returncode})")
        if left:
            fail(f"{doc}: its blocks left {len(left)} process(es) running (an emulator not stopped?)")
        print(f"{doc}: {len(numbered)} command(s) ran as written in {time.monotonic() - started:.1f} s")
    # The build tree is a package too: `credplug new` from build/bin makes a
    # project whose test.sh builds against it (CMAKE_PREFIX_PATH=build).
    work = tempfile.mkdtemp(prefix="build-tree-", dir=prefix)
    tree = dict(env, HOME=work, PATH=os.path.join(os.path.abspath(build), "bin") + ":" + env["PATH"])
    r = subprocess.run(["bash", "-c", "set -e; credplug new from-build --lang c >/dev/null; from-build/test.sh"],
                       cwd=work, env=tree, capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or "from-build: OK" not in r.stdout:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        fail("credplug new X && X/test.sh from the build tree does not pass")
    print("build tree: credplug new && test.sh pass against build/")
    subprocess.run(["rm", "-rf", prefix])
    print(f"doc blocks: OK ({ran} block(s) run, {skipped} run elsewhere)")


if __name__ == "__main__":
    main()
